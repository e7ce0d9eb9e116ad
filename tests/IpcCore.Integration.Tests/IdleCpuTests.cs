using System.Globalization;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>An idle hub (and an idle subscriber) waits in the kernel: no busy spinning.</summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
[NonParallelizable] // measured on a quiet machine, though what is measured is the process's own CPU time
public sealed class IdleCpuTests : HubTest
{
    private const double TicksPerSecond = 100; // USER_HZ, the unit of /proc/<pid>/stat utime and stime
    private static readonly TimeSpan s_window = TimeSpan.FromSeconds(2);
    private const double MaxCpuSeconds = 0.2;

    public IdleCpuTests(string backend) : base(backend)
    {
    }

    private protected override string Tag => "idle";

    [Test]
    public void IdleHubWithAnIdleSubscriber_UsesAlmostNoCpu()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("quiet");
        Env.PublishOk("quiet", "wake up once", 1);
        sub.WaitForStdoutLine(l => l == "[quiet] wake up once", Timeouts.Message, "the subscriber");
        Thread.Sleep(1000); // let start-up work (JIT, tiering) settle

        double hubBefore = CpuSeconds(hub.Pid), subBefore = CpuSeconds(sub.Pid);
        Thread.Sleep(s_window);
        double hubUsed = CpuSeconds(hub.Pid) - hubBefore, subUsed = CpuSeconds(sub.Pid) - subBefore;

        TestContext.Out.WriteLine($"idle CPU over {s_window.TotalSeconds} s: hub {hubUsed:0.00} s, subscriber {subUsed:0.00} s");
        Assert.That(hubUsed, Is.LessThan(MaxCpuSeconds), $"the idle hub used {hubUsed:0.00} s of CPU in {s_window.TotalSeconds} s: busy waiting?");
        Assert.That(subUsed, Is.LessThan(MaxCpuSeconds), $"the idle subscriber used {subUsed:0.00} s of CPU in {s_window.TotalSeconds} s: busy waiting?");
    }

    [Test]
    public void IdleHubWithoutClients_UsesAlmostNoCpu()
    {
        HubProcess hub = Env.StartHub();
        Thread.Sleep(1000);
        double before = CpuSeconds(hub.Pid);
        Thread.Sleep(s_window);
        double used = CpuSeconds(hub.Pid) - before;
        TestContext.Out.WriteLine($"idle CPU over {s_window.TotalSeconds} s: hub {used:0.00} s");
        Assert.That(used, Is.LessThan(MaxCpuSeconds), $"the idle hub used {used:0.00} s of CPU in {s_window.TotalSeconds} s: busy waiting?");
    }

    /// <summary>utime + stime of <paramref name="pid"/> in seconds (fields 14 and 15 of /proc/&lt;pid&gt;/stat).</summary>
    private static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(rest[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(rest[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }
}
