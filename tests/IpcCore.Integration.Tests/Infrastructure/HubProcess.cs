using System.Globalization;
using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>A running <c>myipchub</c>.</summary>
internal sealed class HubProcess
{
    /// <summary>The hub's second status line: every transport it offers.</summary>
    public const string BackendsLine = "Backends available: pipe, fifo, socket, mqueue, shm";

    public HubProcess(ChildProcess child, string directory)
    {
        Child = child;
        Directory = directory;
    }

    public ChildProcess Child { get; }

    public string Directory { get; }

    public int Pid => Child.Pid;

    /// <summary>Waits for the three start-up lines, the last being "Listening for connections on DIR/hub.sock".</summary>
    public void WaitUntilListening()
    {
        string listening = $"Listening for connections on {Path.Combine(Directory, "hub.sock")}";
        Child.WaitForStdoutLine(l => l.Trim() == listening, Timeouts.Start, $"the hub should print \"{listening}\"");
        var lines = Child.StdoutLines();
        string started = string.Create(CultureInfo.InvariantCulture, $"IPC Hub started (pid {Pid})");
        Assert.That(lines, Does.Contain(started), $"the hub's first line\n{Child.Describe()}");
        Assert.That(lines, Does.Contain(BackendsLine), $"the hub's second line\n{Child.Describe()}");
    }

    /// <summary>Stops the hub with <paramref name="signal"/> and asserts a clean exit: 0, "IPC Hub stopped".</summary>
    public void StopGracefully(int signal = ChildProcess.SigTerm)
    {
        Child.Signal(signal);
        int exit = Child.WaitForExit(Timeouts.Stop, $"the hub should stop on signal {signal}");
        Assert.That(exit, Is.Zero, $"the hub's exit code after signal {signal}\n{Child.Describe()}");
        Assert.That(Child.StdoutLines(), Does.Contain("IPC Hub stopped"), $"the hub's last line\n{Child.Describe()}");
    }

    /// <summary>The number of descriptors the hub holds, without the runtime's own files (see <see cref="Descriptors"/>).</summary>
    public int DescriptorCount() => Descriptors().Count;

    /// <summary>
    /// The hub's descriptors and what each refers to (readlink of /proc/&lt;pid&gt;/fd/N; vanished ones skipped),
    /// without the files the .NET runtime opens as it loads assemblies and native libraries on first use
    /// (*.dll, *.so: they come and stay whenever a code path runs for the first time).
    /// </summary>
    public Dictionary<int, string> Descriptors()
    {
        var result = new Dictionary<int, string>();
        foreach (string entry in System.IO.Directory.GetFileSystemEntries($"/proc/{Pid}/fd"))
        {
            try
            {
                string? target = new FileInfo(entry).LinkTarget;
                if (target is not null && !target.EndsWith(".dll", StringComparison.Ordinal) && !target.EndsWith(".so", StringComparison.Ordinal)
                    && !target.Contains(".so.", StringComparison.Ordinal))
                {
                    result[int.Parse(Path.GetFileName(entry), CultureInfo.InvariantCulture)] = target;
                }
            }
            catch (IOException)
            {
                // Closed meanwhile.
            }
        }
        return result;
    }

    /// <summary>The hub's mappings of its shared-memory rings (lines of /proc/&lt;pid&gt;/maps naming /dev/shm/ipchub.&lt;pid&gt;.).</summary>
    public int ShmRingMappings()
        => File.ReadLines($"/proc/{Pid}/maps").Count(l => l.Contains($"/dev/shm/ipchub.{Pid}.", StringComparison.Ordinal));

    /// <summary>Whether the hub process is still running.</summary>
    public bool IsAlive => !Child.HasExited;
}
