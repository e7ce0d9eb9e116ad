using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// The inbox FIFO <c>DIR/publish.fifo</c>: shell scripts publish lines <c>CHANNEL PAYLOAD</c>. Lines of at most
/// PIPE_BUF (4096) bytes with their newline are atomic, so concurrent writers never mix; longer and malformed
/// lines are rejected (logged, never published) without disturbing the lines around them; <c>--no-inbox</c>
/// turns it off; the hub removes it when it stops.
/// </summary>
[TestFixture]
public sealed partial class InboxFifoTests : HubTest
{
    private const int Writers = 8;
    private const int LinesPerWriter = 200;

    private protected override string Tag => "inbox";

    [GeneratedRegex(@"^\[inbox\.all\] line-(\d)-(\d{3})-(x+)$")]
    private static partial Regex WholeLine();

    /// <summary>
    /// 8 shell writers at once, 200 lines each (with ~300 bytes of filler, so the writes are large): half of them
    /// open the FIFO once for their whole loop, half once per line. The subscriber gets exactly every line, whole,
    /// each writer's lines in its order.
    /// </summary>
    [Test]
    public void EightConcurrentShellWriters_EveryLineArrivesWhole_InEachWritersOrder()
    {
        Env.StartHub();
        Assert.That(File.GetUnixFileMode(Env.InboxPath) & (UnixFileMode)0x1FF, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite),
            "publish.fifo has mode 0600");
        Assert.That(IsFifo(Env.InboxPath), Is.True, "publish.fifo is a FIFO");
        const int total = Writers * LinesPerWriter;
        ChildProcess sub = Env.StartSubscriber("inbox.all", "--count", total.ToString(CultureInfo.InvariantCulture));

        // Every writer waits for the go file, so they really write at the same time.
        string go = Path.Combine(Env.FilesDirectory, "go");
        var writers = new List<ChildProcess>();
        for (int w = 0; w < Writers; w++)
        {
            string filler = new('x', 250 + 10 * w);
            string wait = $"while [ ! -e {go} ]; do sleep 0.01; done; ";
            string loop = $"i=100; while [ $i -lt {100 + LinesPerWriter} ]; do ";
            string script = w % 2 == 0
                ? wait + loop + $"echo \"inbox.all line-{w}-$i-{filler}\"; i=$((i+1)); done > {Env.InboxPath}"
                : wait + loop + $"echo \"inbox.all line-{w}-$i-{filler}\" > {Env.InboxPath}; i=$((i+1)); done";
            writers.Add(Env.StartShell(script));
        }
        File.WriteAllText(go, "");
        foreach (ChildProcess w in writers)
        {
            Assert.That(w.WaitForExit(Timeouts.Message, "a shell writer"), Is.Zero, w.Describe());
        }

        Assert.That(sub.WaitForExit(Timeouts.Message, $"myipcsub --count {total}"), Is.Zero, sub.Describe());
        IReadOnlyList<string> lines = sub.StdoutLines();
        Assert.That(lines, Has.Count.EqualTo(total), sub.Describe());
        var next = new int[Writers];
        for (int i = 0; i < lines.Count; i++)
        {
            Match m = WholeLine().Match(lines[i]);
            Assert.That(m.Success, Is.True, $"line {i + 1} is not one whole line of one writer (mixed or torn): '{lines[i]}'");
            int w = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int n = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) - 100;
            Assert.That(m.Groups[3].Value, Has.Length.EqualTo(250 + 10 * w), $"line {i + 1}: writer {w}'s filler is intact");
            Assert.That(n, Is.EqualTo(next[w]), $"line {i + 1}: writer {w}'s lines arrive in its order");
            next[w]++;
        }
        Assert.That(next, Is.All.EqualTo(LinesPerWriter), "every writer's every line");
        Assert.That(sub.StderrText(), Does.Not.Contain("missed"), sub.Describe());
    }

    /// <summary>
    /// One write holding: a line, a line of exactly 4096 bytes with its newline (accepted), one of 4097 (rejected),
    /// one of 5000 (rejected), a line after them. The rejected ones are logged, not published; the others arrive.
    /// </summary>
    [Test]
    public void LinesOverPipeBuf_AreRejectedAndLogged_TheLinesAroundThemArrive()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber(["inbox.>"], ["--format", "json"]);
        const string prefix = "inbox.long ";
        string exact = new('a', 4096 - prefix.Length - 1);
        string over = new('b', 4097 - prefix.Length - 1);
        string far = new('c', 5000);
        string content = $"inbox.long before\n{prefix}{exact}\n{prefix}{over}\n{prefix}{far}\ninbox.long after\n";
        Assert.That(Encoding.ASCII.GetByteCount($"{prefix}{exact}\n"), Is.EqualTo(4096));
        string file = Env.WriteFile("long.txt", Encoding.ASCII.GetBytes(content));
        ChildProcess cat = Env.StartShell($"cat {file} > {Env.InboxPath}");
        Assert.That(cat.WaitForExit(Timeouts.Message, "cat into the inbox"), Is.Zero, cat.Describe());

        var texts = sub.WaitForStdoutLines(_ => true, 3, Timeouts.Message, "the three acceptable lines").Select(l => JsonMessage.Parse(l).Text).ToList();
        Assert.That(texts, Is.EqualTo(new[] { "before", exact, "after" }), sub.Describe());
        var rejected = hub.Child.WaitForStderrLines(l => l.Contains("rejected", StringComparison.Ordinal), 2, Timeouts.Message,
            "the hub logs both over-long lines");
        Assert.That(rejected, Has.All.Contains("warn").And.All.Contains("4096"), hub.Child.Describe());

        // Nothing else arrives afterwards (a rejected line's tail is not published as a line of its own).
        Env.PublishOk("inbox.long", "marker", 1);
        sub.WaitForStdoutLine(l => JsonMessage.Parse(l).Text == "marker", Timeouts.Message, "the marker");
        Assert.That(sub.StdoutLines().Select(l => JsonMessage.Parse(l).Text), Is.EqualTo(new[] { "before", exact, "after", "marker" }), sub.Describe());
    }

    /// <summary>Lines without a space, with an invalid channel or a wildcard are rejected and logged; blank lines are ignored.</summary>
    [Test]
    public void MalformedLines_AreRejectedAndLogged_NeverPublished()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber([">"], ["--format", "json"]);
        string[] malformed = ["nospace", "a..b payload", "bad/chan payload", ".lead payload", "trail. payload", "star.* payload", "tail.> payload", " leading-space"];
        string content = "good.one first\n" + string.Join("\n", malformed) + "\n\n" + "good.two second\n";
        string file = Env.WriteFile("bad.txt", Encoding.ASCII.GetBytes(content));
        ChildProcess cat = Env.StartShell($"cat {file} > {Env.InboxPath}");
        Assert.That(cat.WaitForExit(Timeouts.Message, "cat into the inbox"), Is.Zero, cat.Describe());

        sub.WaitForStdoutLines(_ => true, 2, Timeouts.Message, "the two good lines");
        var rejected = hub.Child.WaitForStderrLines(l => l.Contains("rejected", StringComparison.Ordinal), malformed.Length, Timeouts.Message,
            "the hub logs every malformed line");
        foreach (string bad in malformed)
        {
            Assert.That(rejected.Any(l => l.Contains(bad, StringComparison.Ordinal)), Is.True, $"a log line names '{bad}'\n{hub.Child.Describe()}");
        }

        Env.PublishOk("good.three", "marker", 1);
        sub.WaitForStdoutLine(l => JsonMessage.Parse(l).Text == "marker", Timeouts.Message, "the marker");
        var received = sub.StdoutLines().Select(JsonMessage.Parse).Select(m => $"{m.Channel} {m.Text}").ToList();
        Assert.That(received, Is.EqualTo(new[] { "good.one first", "good.two second", "good.three marker" }), sub.Describe());
        Assert.That(hub.Child.StderrLines().Count(l => l.Contains("rejected", StringComparison.Ordinal)), Is.EqualTo(malformed.Length),
            "one rejection per malformed line (a blank line is no rejection)\n" + hub.Child.Describe());
    }

    [Test]
    public void NoInbox_CreatesNoPublishFifo()
    {
        HubProcess hub = Env.StartHub("--no-inbox");
        Assert.That(File.Exists(Env.InboxPath), Is.False, "--no-inbox: no publish.fifo");
        Assert.That(hub.Child.StderrText(), Does.Not.Contain("inbox FIFO"), hub.Child.Describe());
        ChildProcess sub = Env.StartSubscriber("x", "--count", "1");
        Env.PublishOk("x", "still a hub", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        hub.StopGracefully();
        Assert.That(HubTestEnvironment.HubFilesIn(Env.Directory), Is.Empty);
    }

    /// <summary>The inbox exists (a FIFO) while the hub runs and is removed when it stops, with the directory it made.</summary>
    [Test]
    public void Inbox_IsRemovedAtShutdown()
    {
        Directory.CreateDirectory(Env.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        HubProcess hub = Env.StartHub();
        Assert.That(IsFifo(Env.InboxPath), Is.True, "publish.fifo is a FIFO while the hub runs");
        ChildProcess sub = Env.StartSubscriber("inbox.x", "--count", "1");
        ChildProcess echo = Env.StartShell($"echo 'inbox.x hello from the shell' > {Env.InboxPath}");
        Assert.That(echo.WaitForExit(Timeouts.Message, "echo into the inbox"), Is.Zero, echo.Describe());
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[inbox.x] hello from the shell" }), sub.Describe());

        hub.StopGracefully();
        Assert.That(File.Exists(Env.InboxPath), Is.False, "the hub removes publish.fifo when it stops");
        Assert.That(Directory.EnumerateFileSystemEntries(Env.Directory), Is.Empty, "nothing of the hub's is left in the directory");
    }

    /// <summary>Whether <paramref name="path"/> is a FIFO (test -p).</summary>
    private bool IsFifo(string path) => Env.StartShell($"test -p {path}").WaitForExit(Timeouts.Message, "test -p") == 0;
}
