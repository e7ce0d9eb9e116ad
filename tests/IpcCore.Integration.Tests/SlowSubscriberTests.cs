using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// A subscriber that does not read: under backpressure it is disconnected with SlowConsumer after the
/// deadline while the others get everything; under drop it misses messages and sees the gap.
/// </summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed partial class SlowSubscriberTests : HubTest
{
    public SlowSubscriberTests(string backend) : base(backend)
    {
    }

    private const int Messages = 600;
    private const int MessageSize = 2000; // 1.2 MB in all: far more than the socket buffers and the queue hold

    // The queue must hold one maximum-size frame (--queue-bytes >= 24 + 255 + --max-message-size): keep both small.
    private static readonly string[] s_smallQueue = ["--max-message-size", "4096", "--queue-messages", "8", "--queue-bytes", "16384"];

    private protected override string Tag => "slow";

    [Test]
    public void Backpressure_SubscriberThatNeverReads_IsDisconnectedWithSlowConsumer_OthersGetEverything()
    {
        HubProcess hub = Env.StartHub([.. s_smallQueue, "--slow-policy", "backpressure", "--slow-deadline", "1"]);
        ChildProcess fast = Env.StartSubscriber("slow", "--count", Count(Messages));
        using RawConnection stalled = RawConnection.ConnectAndHandshake(Env.SocketPath, "it-stalled", receiveBuffer: 4096);
        stalled.SubscribeAndWait(1, "slow");

        ChildProcess pub = PublishMany("slow", Messages);
        Assert.That(pub.WaitForExit(TimeSpan.FromSeconds(90), "the publisher"), Is.Zero, pub.Describe());
        var published = pub.StdoutLines();
        Assert.That(published, Has.Count.EqualTo(Messages), pub.Describe());
        Assert.That(published[0], Is.EqualTo("Published (2 subscribers)"), pub.Describe());
        Assert.That(published[^1], Is.EqualTo("Published (1 subscribers)"), "after the disconnect only the fast subscriber is left\n" + pub.Describe());

        Assert.That(fast.WaitForExit(Timeouts.Message, "the fast subscriber"), Is.Zero, fast.Describe());
        AssertAllInOrder(fast, Messages);

        List<ReceivedFrame> frames = stalled.ReadUntilClosed(Timeouts.Message);
        var data = frames.Where(f => f.Type == FrameType.Data).ToList();
        Assert.That(data.Select(f => f.Sequence), Is.EqualTo(Enumerable.Range(1, data.Count).Select(i => (ulong)i)),
            "under backpressure the stalled subscriber loses nothing before its disconnect");
        Assert.That(frames, Is.Not.Empty, "the stalled subscriber got nothing at all");
        ReceivedFrame last = frames[^1];
        Assert.That(last.Type == FrameType.Error && last.ErrorCode == ProtocolErrorCode.SlowConsumer && last.IsFatal, Is.True,
            $"the stalled subscriber's last frame should be a fatal SlowConsumer Error; got {last} after {data.Count} Data frames\n{hub.Child.Describe()}");
        Assert.That(hub.IsAlive, Is.True);
    }

    [Test]
    public void Drop_FastSubscriberGetsEverything_TheStalledOneSeesAGap_AndStaysConnected()
    {
        Env.StartHub([.. s_smallQueue, "--slow-policy", "drop"]);
        ChildProcess fast = Env.StartSubscriber("slow");
        using RawConnection stalled = RawConnection.ConnectAndHandshake(Env.SocketPath, "it-stalled", receiveBuffer: 4096);
        stalled.SubscribeAndWait(1, "slow");

        ChildProcess pub = PublishPaced("slow", Messages, fast);
        Assert.That(pub.WaitForExit(TimeSpan.FromSeconds(90), "the publisher"), Is.Zero, pub.Describe());
        var published = pub.StdoutLines();
        Assert.That(published, Has.Count.EqualTo(Messages), pub.Describe());
        Assert.That(published, Does.Contain("Published (1 subscribers)"), "some messages were dropped for the stalled subscriber\n" + pub.Describe());
        AssertAllInOrder(fast, Messages);

        // Now the stalled one reads what it was given: increasing sequence numbers with at least one jump.
        List<ReceivedFrame> frames = stalled.ReadUntilQuiet(TimeSpan.FromSeconds(3));
        Assert.That(frames.All(f => f.Type == FrameType.Data), Is.True, "only Data: " + string.Join(", ", frames.Where(f => f.Type != FrameType.Data)));
        ulong[] seqs = [.. frames.Select(f => f.Sequence)];
        Assert.That(seqs, Is.Not.Empty.And.Ordered.Ascending.And.Unique);
        Assert.That(seqs.Length, Is.LessThan(Messages), "some messages should have been dropped");
        Assert.That(seqs.Zip(seqs.Skip(1)).Any(p => p.Second != p.First + 1) || seqs[0] != 1 || seqs[^1] != Messages, Is.True,
            "the stalled subscriber should see a gap in the sequence numbers");
        foreach (ReceivedFrame f in frames)
        {
            Assert.That(Encoding.ASCII.GetString(f.Payload), Does.StartWith(Count((int)f.Sequence) + ":"), "seq and payload match");
        }

        // It is still connected and gets the next message.
        Env.PublishOk("slow", "one more", 2);
        ReceivedFrame? next = stalled.ReadFrame(Timeouts.Message);
        Assert.That(next?.Type, Is.EqualTo(FrameType.Data), next?.ToString() ?? "connection closed");
        Assert.That(next!.Sequence, Is.EqualTo((ulong)Messages + 1));
    }

    /// <summary>Drop, seen through myipcsub: stopped (SIGSTOP) while the messages flow, it reports what it missed once resumed.</summary>
    [Test]
    public void Drop_StoppedMyipcsub_ReportsTheMissedMessagesOnResume()
    {
        Env.StartHub([.. s_smallQueue, "--slow-policy", "drop"]);
        ChildProcess fast = Env.StartSubscriber("slow");
        ChildProcess stopped = Env.StartSubscriber("slow");
        stopped.Signal(ChildProcess.SigStop);

        ChildProcess pub = PublishPaced("slow", Messages, fast);
        Assert.That(pub.WaitForExit(TimeSpan.FromSeconds(90), "the publisher"), Is.Zero, pub.Describe());
        Assert.That(pub.StdoutLines(), Does.Contain("Published (1 subscribers)"), pub.Describe());
        AssertAllInOrder(fast, Messages);

        stopped.Signal(ChildProcess.SigCont);
        // The last messages were dropped too; the gap shows when the next one arrives.
        Thread.Sleep(1000);
        Env.PublishOk("slow", "final", 2);
        stopped.WaitForStdoutLine(l => l == "[slow] final", Timeouts.Message, "the resumed subscriber gets the next message");

        int received = stopped.StdoutLines().Count;
        int missed = 0;
        foreach (string line in stopped.StderrLines())
        {
            Match m = MissedLine().Match(line);
            if (m.Success)
            {
                int n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                long a = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                long b = long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                Assert.That(b - a + 1, Is.EqualTo(n), $"count and range agree: {line}");
                missed += n;
            }
        }
        Assert.That(missed, Is.GreaterThan(0), "myipcsub should report the gap on stderr\n" + stopped.Describe());
        Assert.That(received + missed, Is.EqualTo(Messages + 1), "every message was either received or reported missed\n" + stopped.Describe());
    }

    [GeneratedRegex(@"^myipcsub: missed (\d+) message\(s\) on 'slow' \(sequence (\d+)\.\.(\d+)\)$")]
    private static partial Regex MissedLine();

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Payload(int n) => Count(n) + ":" + new string('z', MessageSize - Count(n).Length - 1);

    private ChildProcess PublishMany(string channel, int count)
    {
        ChildProcess pub = Env.StartPublisher(channel);
        var text = new StringBuilder();
        for (int i = 1; i <= count; i++)
        {
            text.Append(Payload(i)).Append('\n');
        }
        pub.FeedStdinAndClose(Encoding.ASCII.GetBytes(text.ToString()));
        return pub;
    }

    /// <summary>
    /// Publishes <paramref name="count"/> messages in batches that the fast subscriber (a real process) can
    /// take without ever filling its queue: under drop, a subscriber that merely lags also loses messages.
    /// </summary>
    private ChildProcess PublishPaced(string channel, int count, ChildProcess fast)
    {
        const int batch = 5;
        ChildProcess pub = Env.StartPublisher(channel);
        for (int first = 1; first <= count; first += batch)
        {
            int last = Math.Min(count, first + batch - 1);
            var text = new StringBuilder();
            for (int i = first; i <= last; i++)
            {
                text.Append(Payload(i)).Append('\n');
            }
            pub.WriteStdin(Encoding.ASCII.GetBytes(text.ToString()));
            fast.WaitForStdoutLines(l => l.StartsWith("[slow] ", StringComparison.Ordinal), last, Timeouts.Message,
                $"the fast subscriber should keep up with message {last}");
        }
        pub.CloseStdin();
        return pub;
    }

    private static void AssertAllInOrder(ChildProcess sub, int count)
    {
        var lines = sub.StdoutLines();
        Assert.That(lines, Has.Count.EqualTo(count), sub.Describe());
        for (int i = 0; i < count; i++)
        {
            if (lines[i] != "[slow] " + Payload(i + 1))
            {
                Assert.Fail($"line {i + 1} of the fast subscriber is not message {i + 1}: {lines[i][..Math.Min(40, lines[i].Length)]}...\n{sub.Describe()}");
            }
        }
        Assert.That(sub.StderrText(), Does.Not.Contain("missed"), sub.Describe());
    }
}
