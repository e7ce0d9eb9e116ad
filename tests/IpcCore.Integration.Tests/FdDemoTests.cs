using System.Globalization;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// <c>myipcfd</c>, the descriptor-passing demo, run as users run it: each run starts a hub of its own (and its
/// reader or receiver: the demo program again), so the tests need no hub. Checks the demo's verdict lines, and
/// that it leaves nothing behind: no process, no temporary directory, no POSIX IPC object.
/// </summary>
[TestFixture]
public sealed partial class FdDemoTests
{
    private const string FdDemo = "myipcfd";
    private const uint NobodyUid = 65534;

    // Generous: the demo starts three .NET processes, on two cores shared with the other test assemblies.
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(2);

    [TestCase("socket")]
    [TestCase("pipe")]
    public void Permissions_OpenByPathFailsWithEacces_ReadThroughTheDescriptorWorks(string transport)
    {
        HashSet<string> before = PosixLeaks.Snapshot();
        ChildProcess demo = ChildProcess.Start(FdDemo, ["permissions", "--transport", transport]);
        Assert.That(demo.WaitForExit(s_runTimeout, "myipcfd permissions should finish"), Is.Zero, demo.Describe());

        IReadOnlyList<string> lines = demo.StdoutLines();
        // Root ignores file modes: the reader then drops to nobody before it tries; anyone else tries as itself.
        uint readerUid = ProcessInfo.EffectiveUid == 0 ? NobodyUid : ProcessInfo.EffectiveUid;
        string refused = string.Create(CultureInfo.InvariantCulture, $"reader (uid {readerUid}): open('");
        Assert.That(lines, Has.Some.Matches<string>(l => l.StartsWith(refused, StringComparison.Ordinal)
            && l.EndsWith("/secret.txt'): EACCES (Permission denied)", StringComparison.Ordinal)), demo.Describe());
        Assert.That(lines, Has.Some.Match(@"^reader: read [1-9][0-9]* bytes through the descriptor: "".+""$"), demo.Describe());
        Assert.That(lines, Has.Some.StartsWith("permissions: OK"), demo.Describe());
        AssertNothingLeft(demo, before, [HelperPid(lines, "reader")]);
    }

    [TestCase("socket")]
    [TestCase("pipe")]
    public void Transfer_ByDescriptorAndCopied_BothChecksumsMatch(string transport)
    {
        HashSet<string> before = PosixLeaks.Snapshot();
        ChildProcess demo = ChildProcess.Start(FdDemo, ["transfer", "--size", "8MiB", "--transport", transport]);
        Assert.That(demo.WaitForExit(s_runTimeout, "myipcfd transfer should finish"), Is.Zero, demo.Describe());

        IReadOnlyList<string> lines = demo.StdoutLines();
        Assert.That(lines, Has.Some.StartsWith("receiver: the memfd is sealed (F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW"), demo.Describe());
        // method, bytes, time (ms), throughput (MB/s), checksum ok
        foreach (string method in (string[])["by descriptor", "copied"])
        {
            var row = lines.Where(l => l.StartsWith(method + " ", StringComparison.Ordinal) && RowPattern().IsMatch(l[method.Length..])).ToList();
            Assert.That(row, Has.Count.EqualTo(1), $"the '{method}' row\n{demo.Describe()}");
            Match cells = RowPattern().Match(row[0][method.Length..]);
            Assert.That(long.Parse(cells.Groups["bytes"].Value, CultureInfo.InvariantCulture), Is.EqualTo(8L << 20), row[0]);
            Assert.That(double.Parse(cells.Groups["mbps"].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0), row[0]);
            Assert.That(cells.Groups["ok"].Value, Is.EqualTo("yes"), row[0]);
        }
        Assert.That(lines, Has.Some.StartsWith("transfer: OK"), demo.Describe());
        AssertNothingLeft(demo, before, [HelperPid(lines, "receiver")]);
    }

    [Test]
    public void UnknownOption_ExitsTwo_NamingIt()
    {
        ChildProcess demo = ChildProcess.Start(FdDemo, ["--bogus"]);
        Assert.That(demo.WaitForExit(Timeouts.Message, "myipcfd --bogus should refuse"), Is.EqualTo(2), demo.Describe());
        Assert.That(demo.StderrText(), Does.Contain("myipcfd: ").And.Contain("--bogus"), demo.Describe());
        Assert.That(demo.StdoutText(), Is.Empty, demo.Describe());
    }

    [Test]
    public void SizeOverTheLimit_ExitsTwo()
    {
        ChildProcess demo = ChildProcess.Start(FdDemo, ["transfer", "--size", "2GiB"]);
        Assert.That(demo.WaitForExit(Timeouts.Message, "myipcfd transfer --size 2GiB should refuse"), Is.EqualTo(2), demo.Describe());
        Assert.That(demo.StderrText(), Does.Contain("--size"), demo.Describe());
    }

    /// <summary>The pid of the helper the demo started, from its "the reader (pid N)" line.</summary>
    private static int HelperPid(IReadOnlyList<string> lines, string helper)
    {
        var pattern = new Regex($@"the {helper} \(pid (?<pid>[0-9]+)\)", RegexOptions.CultureInvariant);
        Match? found = lines.Select(l => pattern.Match(l)).FirstOrDefault(m => m.Success);
        Assert.That(found, Is.Not.Null, $"a line naming the {helper}'s pid:\n{string.Join('\n', lines)}");
        return int.Parse(found!.Groups["pid"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The demo ended its hub and helper (by pid), removed its temporary directories (/tmp/myipcfd.PID.*) and left
    /// no POSIX IPC object (a memfd has no name, and the socket and pipe transports make none).
    /// </summary>
    private static void AssertNothingLeft(ChildProcess demo, HashSet<string> before, int[] helpers)
    {
        Match hub = HubStarted().Match(demo.StderrText());
        Assert.That(hub.Success, Is.True, $"the demo says which hub it started\n{demo.Describe()}");
        int hubPid = int.Parse(hub.Groups["pid"].Value, CultureInfo.InvariantCulture);
        Assert.That(demo.StderrText(), Does.Contain(string.Create(CultureInfo.InvariantCulture, $"Stopped myipchub (pid {hubPid}): exited with code 0")),
            demo.Describe());
        foreach (int pid in helpers.Append(hubPid))
        {
            Assert.That(ProcessInfo.IsAlive(pid), Is.False, $"pid {pid} (started by the demo) is still there\n{demo.Describe()}");
        }

        string prefix = string.Create(CultureInfo.InvariantCulture, $"myipcfd.{demo.Pid}.");
        Assert.That(Directory.EnumerateFileSystemEntries(Path.GetTempPath(), prefix + "*"), Is.Empty, "temporary directories of the demo left behind");

        // New since the run started, and named after the demo or one of its processes.
        var pids = helpers.Append(hubPid).Append(demo.Pid).ToList();
        var left = PosixLeaks.Find(pids, tag: FdDemo).Where(path => !before.Contains(path)).ToList();
        Assert.That(left, Is.Empty, "POSIX IPC objects left in /dev/shm or /dev/mqueue");
    }

    [GeneratedRegex(@"^ +(?<bytes>[0-9]+) +(?<ms>[0-9.]+) +(?<mbps>[0-9.]+) +(?<ok>yes|NO)$", RegexOptions.CultureInvariant)]
    private static partial Regex RowPattern();

    [GeneratedRegex(@"Started myipchub \(pid (?<pid>[0-9]+)\)", RegexOptions.CultureInvariant)]
    private static partial Regex HubStarted();
}
