using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class ProcessInfoTests
{
    [Test]
    public void CurrentPid_is_this_process()
        => Assert.That(ProcessInfo.CurrentPid, Is.EqualTo(Environment.ProcessId));

    [Test]
    public void EffectiveUid_matches_proc_self_status()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        uint effective = uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
        Assert.That(ProcessInfo.EffectiveUid, Is.EqualTo(effective));
    }

    [Test]
    public void This_process_and_init_are_alive()
    {
        Assert.That(ProcessInfo.IsAlive(Environment.ProcessId), Is.True);
        // pid 1 always exists; for an unprivileged caller kill(1, 0) is EPERM, which still means alive.
        Assert.That(ProcessInfo.IsAlive(1), Is.True);
    }

    [Test]
    public void An_exited_and_reaped_child_is_not_alive()
    {
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        int pid = child.Id;
        child.WaitForExit();
        Assert.That(ProcessInfo.IsAlive(pid), Is.False);
    }

    [Test]
    public void A_pid_beyond_pid_max_is_not_alive()
        => Assert.That(ProcessInfo.IsAlive(int.MaxValue), Is.False);

    [Test]
    public void Zero_and_negative_pids_are_rejected_because_kill_would_mean_groups()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessInfo.IsAlive(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessInfo.IsAlive(-1));
    }
}
