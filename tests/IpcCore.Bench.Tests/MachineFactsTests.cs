using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class MachineFactsTests
{
    [Test]
    public void Reads_the_facts_from_proc_and_etc()
    {
        using var root = new TempDirectory();
        Write(root, "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Test CPU @ 3.00GHz\nflags\t\t: fpu vme hypervisor sse\n\nprocessor\t: 1\nmodel name\t: Test CPU @ 3.00GHz\n");
        Write(root, "proc/sys/kernel/osrelease", "6.1.0-test\n");
        Write(root, "etc/os-release", "NAME=\"Test\"\nPRETTY_NAME=\"Test Linux 12 (bookworm)\"\nID=test\n");
        Write(root, "proc/meminfo", "MemTotal:       16384000 kB\nMemFree:         1000 kB\n");

        MachineFacts facts = MachineFacts.Read(root.Path);

        Assert.Multiple(() =>
        {
            Assert.That(facts.CpuModel, Is.EqualTo("Test CPU @ 3.00GHz"));
            Assert.That(facts.Kernel, Is.EqualTo("6.1.0-test"));
            Assert.That(facts.OperatingSystem, Is.EqualTo("Test Linux 12 (bookworm)"));
            Assert.That(facts.MemoryBytes, Is.EqualTo(16384000L * 1024));
            Assert.That(facts.Virtual, Is.True);
            Assert.That(facts.LogicalCores, Is.EqualTo(Environment.ProcessorCount));
            Assert.That(facts.Runtime, Does.StartWith(".NET"));
            Assert.That(facts.CpuLine, Does.Contain("virtual machine"));
        });
    }

    [Test]
    public void Bare_metal_flags_say_not_virtual()
    {
        (string model, bool? isVirtual) = MachineFacts.ParseCpuInfo("model name : X\nflags : fpu sse hypervisor_like\n");

        Assert.Multiple(() =>
        {
            Assert.That(model, Is.EqualTo("X"));
            Assert.That(isVirtual, Is.False);
        });
    }

    [Test]
    public void Missing_files_read_as_unknown()
    {
        using var root = new TempDirectory();

        MachineFacts facts = MachineFacts.Read(root.Path);

        Assert.Multiple(() =>
        {
            Assert.That(facts.CpuModel, Is.EqualTo(MachineFacts.Unknown));
            Assert.That(facts.Kernel, Is.EqualTo(MachineFacts.Unknown));
            Assert.That(facts.OperatingSystem, Is.EqualTo(MachineFacts.Unknown));
            Assert.That(facts.MemoryBytes, Is.Null);
            Assert.That(facts.Virtual, Is.Null);
            Assert.That(facts.SystemLine, Does.Not.Contain("RAM"));
        });
    }

    [Test]
    public void This_machine_has_facts()
    {
        MachineFacts facts = MachineFacts.Read();

        Assert.Multiple(() =>
        {
            Assert.That(facts.LogicalCores, Is.GreaterThan(0));
            Assert.That(facts.Kernel, Is.Not.Empty);
            Assert.That(facts.CpuModel, Is.Not.Empty);
        });
    }

    private static void Write(TempDirectory root, string relative, string text)
    {
        string path = Path.Combine(root.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
