using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// The hub's child processes: <c>--child CHANNEL=COMMAND</c> publishes each stdout line of COMMAND,
/// <c>--child-sub PATTERN=COMMAND</c> writes each message to COMMAND's stdin. The hub logs their start and end,
/// survives a child that exits, and at shutdown ends every child's process group (SIGTERM, SIGKILL 2 s later).
/// </summary>
/// <remarks>
/// Commands that publish wait for a "go" file the test creates once its subscriber is subscribed (a line published
/// before anyone subscribed reaches no one). Commands write their pid ($$) and their own children's pids to files,
/// so the test can check by pid that they are gone.
/// </remarks>
[TestFixture]
public sealed partial class ChildProcessTests : HubTest
{
    private protected override string Tag => "child";

    [GeneratedRegex(@"child (\d+) started: (.*)$")]
    private static partial Regex StartedLine();

    private string Go => Path.Combine(Env.FilesDirectory, "go");

    private string WaitForGo => $"while [ ! -e {Go} ]; do sleep 0.01; done; ";

    private string FilePath(string name) => Path.Combine(Env.FilesDirectory, name);

    [Test]
    public void Child_EachStdoutLineIsPublished()
    {
        HubProcess hub = Env.StartHub("--child", $"sensors={WaitForGo}printf 'a\\nb\\nc\\n'; sleep 30");
        int pid = ChildPid(hub, "--child sensors=");
        ChildProcess sub = Env.StartSubscriber("sensors", "--count", "3", "--format", "json");
        File.WriteAllText(Go, "");

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 3"), Is.Zero, sub.Describe());
        var received = sub.StdoutLines().Select(JsonMessage.Parse).Select(m => (m.Channel, m.Seq, m.Text)).ToList();
        Assert.That(received, Is.EqualTo(new (string, ulong, string?)[] { ("sensors", 1, "a"), ("sensors", 2, "b"), ("sensors", 3, "c") }), sub.Describe());
        Assert.That(IsRunning(pid), Is.True, "the child (sleeping) is still running");

        hub.StopGracefully();
        WaitGone(pid, "the --child process after the hub stopped");
        Assert.That(hub.Child.StderrText(), Does.Contain($"child {pid} (--child sensors=").And.Contain("killed by SIGTERM"), hub.Child.Describe());
    }

    [Test]
    public void ChildSub_GetsEveryMessageOfItsPatternOnStdin()
    {
        string output = FilePath("alerts.txt");
        HubProcess hub = Env.StartHub("--child-sub", $"alerts.>=cat > {output}");
        ChildPid(hub, "--child-sub alerts.>=");

        ChildProcess pub = Env.StartPublisher("alerts.fire");
        pub.WriteStdin("one\ntwo\nthree with spaces\n"u8);
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub"), Is.Zero, pub.Describe());
        Env.AssertPublished(pub, expectedSubscribers: 1, messages: 3);
        Env.PublishOk("other", "not for the child", 0);

        string[] lines = WaitForLines(output, 3, "the --child-sub's file");
        Assert.That(lines, Is.EqualTo(new[] { "one", "two", "three with spaces" }));
        hub.StopGracefully();
        Assert.That(File.ReadAllLines(output), Is.EqualTo(lines), "nothing more after the shutdown");
    }

    /// <summary>A --child publishes, a --child-sub of the same hub receives: no socket client at all.</summary>
    [Test]
    public void ChildAndChildSub_EndToEnd()
    {
        string output = FilePath("relay.txt");
        HubProcess hub = Env.StartHub(
            "--child-sub", $"relay.*=cat > {output}",
            "--child", $"relay.out={WaitForGo}for i in 1 2 3 4 5; do echo \"tick $i\"; done; sleep 30");
        ChildPid(hub, "--child-sub relay.*=");
        ChildPid(hub, "--child relay.out=");
        File.WriteAllText(Go, "");

        string[] lines = WaitForLines(output, 5, "the --child-sub's file");
        Assert.That(lines, Is.EqualTo(Enumerable.Range(1, 5).Select(i => $"tick {i}")), hub.Child.Describe());
        hub.StopGracefully();
    }

    /// <summary>
    /// On SIGTERM the hub ends its children's process groups: the shells and what they started (a background
    /// sleep, a pipeline), a --child-sub included; the hub exits 0 and logs each child's end.
    /// </summary>
    [Test]
    public void HubSigTerm_EndsEveryChildAndTheirChildren_AndExits0()
    {
        string[] files = ["c1.pids", "c2.pids", "s1.pids"];
        HubProcess hub = Env.StartHub(
            "--child", $"c1=sleep 1000 & echo \"$$ $!\" > {FilePath("c1.pids")}.tmp; mv {FilePath("c1.pids")}.tmp {FilePath("c1.pids")}; wait",
            "--child", $"c2=echo \"$$\" > {FilePath("c2.pids")}.tmp; mv {FilePath("c2.pids")}.tmp {FilePath("c2.pids")}; sleep 1000 | cat",
            "--child-sub", $"s1.>=sleep 1000 & echo \"$$ $!\" > {FilePath("s1.pids")}.tmp; mv {FilePath("s1.pids")}.tmp {FilePath("s1.pids")}; cat > /dev/null");
        var pids = new List<int>();
        foreach (string f in files)
        {
            pids.AddRange(ReadPids(FilePath(f)));
        }
        Assert.That(pids, Has.Count.EqualTo(5));
        foreach (int pid in pids)
        {
            Assert.That(IsRunning(pid), Is.True, $"pid {pid} runs while the hub runs");
        }
        // The pipeline's sleep and cat are children of c2's shell: find them by their parent.
        int c2 = ReadPids(FilePath("c2.pids"))[0];
        var c2Children = ChildrenOf(c2);
        for (var wait = Stopwatch.StartNew(); c2Children.Count < 2 && wait.Elapsed < Timeouts.Start; c2Children = ChildrenOf(c2))
        {
            Thread.Sleep(10);
        }
        Assert.That(c2Children, Has.Count.EqualTo(2), "the pipeline of c2: sleep and cat");
        pids.AddRange(c2Children);

        var clock = Stopwatch.StartNew();
        hub.StopGracefully();
        TestContext.Out.WriteLine($"the hub stopped {clock.ElapsedMilliseconds} ms after SIGTERM");
        foreach (int pid in pids)
        {
            WaitGone(pid, $"pid {pid} (a child of the hub, or its child) after the hub stopped");
        }
        string log = hub.Child.StderrText();
        foreach (int shell in files.Select(f => ReadPids(FilePath(f))[0]))
        {
            Assert.That(log, Does.Match($@"child {shell} \(--child(-sub)? [^)]*\) (killed by SIGTERM \(15\)|exited with code \d+)"),
                $"the hub logs how child {shell} ended\n{hub.Child.Describe()}");
        }
    }

    /// <summary>A child that ignores SIGTERM is killed (SIGKILL) 2 s later; the hub still exits 0.</summary>
    [Test]
    public void ChildIgnoringSigTerm_IsKilled_AndTheHubExits0()
    {
        string pidFile = FilePath("stubborn.pid");
        HubProcess hub = Env.StartHub("--child", $"stubborn=trap '' TERM; echo $$ > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; while :; do sleep 1; done");
        int pid = ReadPids(pidFile)[0];
        hub.StopGracefully();
        WaitGone(pid, "the child that ignored SIGTERM");
        Assert.That(hub.Child.StderrText(), Does.Contain($"child {pid} (--child stubborn=").And.Contain("killed by SIGKILL (9) (it ignored SIGTERM)"),
            hub.Child.Describe());
    }

    /// <summary>
    /// Children that exit by themselves are logged with their exit code; the last line without a newline is
    /// published at end of output; the hub keeps running and routing.
    /// </summary>
    [Test]
    public void ChildThatExits_IsLoggedWithItsCode_AndTheHubKeepsRunning()
    {
        HubProcess hub = Env.StartHub(
            "--child", $"quits={WaitForGo}printf 'one\\nlast without newline'; exit 3",
            "--child", "fine=exit 0");
        int quits = ChildPid(hub, "--child quits=");
        int fine = ChildPid(hub, "--child fine=");
        hub.Child.WaitForStderrLine(l => l.Contains($"child {fine} (--child fine=exit 0) exited with code 0", StringComparison.Ordinal),
            Timeouts.Message, "the hub logs the child that exited 0");
        ChildProcess sub = Env.StartSubscriber("quits", "--count", "2");
        File.WriteAllText(Go, "");

        string line = hub.Child.WaitForStderrLine(l => l.Contains($"child {quits} (--child quits=", StringComparison.Ordinal)
            && l.Contains("exited with code 3", StringComparison.Ordinal), Timeouts.Message, "the hub logs the exit code 3");
        Assert.That(line, Does.Contain("warn"), "a non-zero exit is a warning");
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 2"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[quits] one", "[quits] last without newline" }), sub.Describe());

        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
        ChildProcess after = Env.StartSubscriber("after", "--count", "1");
        Env.PublishOk("after", "the hub goes on", 1);
        Assert.That(after.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, after.Describe());
        WaitGone(quits, "the child that exited");
        hub.StopGracefully();
    }

    // --- helpers -------------------------------------------------------------------------------------

    /// <summary>The pid of the child whose "child PID started: ..." log line starts with <paramref name="described"/>.</summary>
    private static int ChildPid(HubProcess hub, string described)
    {
        string line = hub.Child.WaitForStderrLine(l => StartedLine().Match(l) is { Success: true } m && m.Groups[2].Value.StartsWith(described, StringComparison.Ordinal),
            Timeouts.Start, $"the hub logs the start of {described}...");
        return int.Parse(StartedLine().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits for the file a command writes (renamed into place when complete); returns its pids.</summary>
    private static List<int> ReadPids(string path)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (clock.Elapsed > Timeouts.Start)
            {
                Assert.Fail($"{path} did not appear within {Timeouts.Start.TotalSeconds:0} s");
            }
            Thread.Sleep(10);
        }
        return [.. File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
    }

    private static string[] WaitForLines(string path, int count, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string text = File.Exists(path) ? File.ReadAllText(path) : "";
            string[] lines = text.Split('\n');
            if (lines.Length > count)
            {
                return lines[..count];
            }
            if (clock.Elapsed > Timeouts.Message)
            {
                Assert.Fail($"{what}: expected {count} lines in {path}, it holds:\n{text}");
            }
            Thread.Sleep(10);
        }
    }

    /// <summary>Whether <paramref name="pid"/> exists and is not a zombie (a reparented child nobody reaps is gone for our purpose).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            char state = stat[stat.LastIndexOf(')') + 2];
            return state is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void WaitGone(int pid, string what)
    {
        var clock = Stopwatch.StartNew();
        while (IsRunning(pid))
        {
            if (clock.Elapsed > Timeouts.Stop)
            {
                Assert.Fail($"{what}: pid {pid} still runs {Timeouts.Stop.TotalSeconds:0} s later: {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}");
            }
            Thread.Sleep(10);
        }
    }

    /// <summary>The pids whose parent is <paramref name="parent"/> (field 4 of /proc/pid/stat).</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(rest[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return children;
    }
}
