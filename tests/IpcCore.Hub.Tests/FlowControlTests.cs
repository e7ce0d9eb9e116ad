using System.Collections.Concurrent;
using System.Diagnostics;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>
/// Slow subscribers under each policy, with small queue limits and a raw subscriber that does not read
/// (its socket buffer fills, then its hub queue).
/// </summary>
[TestFixture]
public sealed class FlowControlTests
{
    private const int MessageSize = 1000;
    private const int Messages = 1500; // well past the socket buffers (~200 KiB) plus the queue

    private static HubOptions Small(HubOptions o, SlowConsumerPolicy policy, double deadlineSeconds) => o with
    {
        MaxMessageSize = 1024,
        QueueMessages = 4,
        QueueBytes = 8192,
        SlowPolicy = policy,
        SlowDeadline = TimeSpan.FromSeconds(deadlineSeconds),
    };

    /// <summary>Publishes <paramref name="count"/> messages in the background and collects the Acks as they come.</summary>
    private sealed class Publisher : IDisposable
    {
        private readonly RawClient _client;
        private readonly Task _sender;
        private readonly Task _reader;

        public Publisher(string socketPath, string name, string channel, int count, ulong firstId = 1)
        {
            _client = RawClient.ConnectAndHandshake(socketPath, name);
            _sender = Background.Run(() =>
            {
                byte[] payload = new byte[MessageSize];
                for (int i = 0; i < count; i++)
                {
                    payload[0] = (byte)i;
                    _client.TrySend(RawClient.Frame(FrameType.Publish, firstId + (ulong)i, channel, payload));
                }
            });
            _reader = Background.Run(() =>
            {
                while (Acks.Count < count)
                {
                    ReceivedFrame? f = _client.ReadFrame(TimeSpan.FromSeconds(60));
                    if (f is null)
                    {
                        return;
                    }
                    Acks.Enqueue((Stopwatch.GetTimestamp(), f));
                }
            });
        }

        public ConcurrentQueue<(long At, ReceivedFrame Frame)> Acks { get; } = new();

        /// <summary>Waits until no Ack came for <paramref name="quiet"/>; returns how many came.</summary>
        public int WaitUntilStalled(TimeSpan quiet, TimeSpan max)
        {
            var total = Stopwatch.StartNew();
            int last = -1;
            var still = Stopwatch.StartNew();
            while (total.Elapsed < max)
            {
                int now = Acks.Count;
                if (now != last)
                {
                    last = now;
                    still.Restart();
                }
                else if (still.Elapsed >= quiet)
                {
                    return now;
                }
                Thread.Sleep(20);
            }
            return Acks.Count;
        }

        public bool WaitForAcks(int count, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            while (Acks.Count < count && sw.Elapsed < timeout)
            {
                Thread.Sleep(10);
            }
            return Acks.Count >= count;
        }

        public void Dispose()
        {
            _client.Dispose();
            Task.WhenAll(_sender, _reader).ContinueWith(_ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(10));
        }
    }

    [Test]
    public void Backpressure_StallsThePublisher_AndOtherPublishersToTheChannel_ThenResumesInOneOrder()
    {
        using InProcessHub hub = InProcessHub.Start("bp", o => Small(o, SlowConsumerPolicy.Backpressure, 60));
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "slow-sub");
        sub.Subscribe("bp", 1);
        using var pub1 = new Publisher(hub.SocketPath, "pub1", "bp", Messages);
        int acked = pub1.WaitUntilStalled(TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(20));
        Assert.That(acked, Is.LessThan(Messages), "the publisher stalls while the subscriber does not read");

        using RawClient pub2 = RawClient.ConnectAndHandshake(hub.SocketPath, "pub2");
        pub2.Publish("bp", "from pub2"u8, 1);
        Assert.That(pub2.TryReadFrame(TimeSpan.FromMilliseconds(500), out ReceivedFrame? early), Is.False,
            $"a second publisher to the stalled channel waits too (got {early})");

        using RawClient other = RawClient.ConnectAndHandshake(hub.SocketPath, "other");
        Assert.That(other.PublishAndAck("elsewhere", "x", 1), Is.EqualTo(new AckPayload(0, 0, 1)), "other channels are not held up");
        Assert.That(sub.Socket.ReceiveBufferSize, Is.Positive);

        // The subscriber reads: everything arrives, numbered 1..N+1 without a gap, and every Ack comes.
        var sequences = new List<ulong>();
        var fromPub1 = new List<byte>();
        for (int i = 0; i < Messages + 1; i++)
        {
            ReceivedFrame data = sub.Expect(FrameType.Data, TimeSpan.FromSeconds(30));
            sequences.Add(data.Sequence);
            if (data.Payload.Length == MessageSize)
            {
                fromPub1.Add(data.Payload[0]);
            }
        }
        Assert.That(sequences, Is.EqualTo(Enumerable.Range(1, Messages + 1).Select(i => (ulong)i)));
        Assert.That(fromPub1, Is.EqualTo(Enumerable.Range(0, Messages).Select(i => (byte)i)), "pub1's messages keep their order");
        Assert.That(pub1.WaitForAcks(Messages, TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(pub1.Acks.Select(a => a.Frame.Ack.Delivered), Is.All.EqualTo(1));
        Assert.That(pub2.ExpectAck(1).Delivered, Is.EqualTo(1));
    }

    [Test]
    public void Backpressure_DisconnectsASubscriberWhoseQueueStaysFullPastTheDeadline_AndRoutingGoesOn()
    {
        const double Deadline = 0.6;
        using InProcessHub hub = InProcessHub.Start("deadline", o => Small(o, SlowConsumerPolicy.Backpressure, Deadline));
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "stuck-sub");
        using RawClient healthy = RawClient.ConnectAndHandshake(hub.SocketPath, "healthy-sub");
        sub.Subscribe("dl", 1);
        healthy.Subscribe("dl", 1);
        var healthyCount = 0;
        var healthyReader = Background.Run(() =>
        {
            while (healthyCount < Messages && healthy.ReadFrame(TimeSpan.FromSeconds(30)) is { Type: FrameType.Data })
            {
                healthyCount++;
            }
        });

        using var pub = new Publisher(hub.SocketPath, "pub", "dl", Messages);
        Assert.That(pub.WaitForAcks(Messages, TimeSpan.FromSeconds(30)), Is.True, "publishing resumes once the slow subscriber is gone");
        (long At, ReceivedFrame Frame)[] acks = [.. pub.Acks];
        int firstAlone = Array.FindIndex(acks, a => a.Frame.Ack.Delivered == 1);
        Assert.That(firstAlone, Is.Positive, "some messages went to both subscribers before the slow one was dropped");
        Assert.That(acks.Skip(firstAlone).Select(a => a.Frame.Ack.Delivered), Is.All.EqualTo(1));
        // The publisher waited for the deadline (with slack for a loaded machine): the gap between the
        // last Ack before the disconnect and the first after it.
        double stalledFor = Stopwatch.GetElapsedTime(acks[firstAlone - 1].At, acks[firstAlone].At).TotalSeconds;
        Assert.That(stalledFor, Is.GreaterThanOrEqualTo(Deadline * 0.5), "the publisher waited for the deadline");

        List<ReceivedFrame> frames = sub.ReadUntilClosed(TimeSpan.FromSeconds(30));
        ReceivedFrame last = frames[^1];
        Assert.That(last.ErrorCode, Is.EqualTo(ProtocolErrorCode.SlowConsumer), last.ToString());
        Assert.That(last.IsFatal, Is.True);
        Assert.That(last.ErrorReason, Does.StartWith("outbound queue full (").And.Contain("limits 4 messages, 8192 bytes, ").And.Contain(" descriptors) for 0.6 s"));
        Assert.That(frames.Take(frames.Count - 1).Select(f => f.Type), Is.All.EqualTo(FrameType.Data));
        Assert.That(healthyReader.Wait(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(healthyCount, Is.EqualTo(Messages), "the healthy subscriber got everything");
        Assert.That(hub.Log.Contains(400, "'stuck-sub' is a slow consumer"), Is.True);
    }

    [Test]
    public void Block_StallsWithoutDeadline()
    {
        using InProcessHub hub = InProcessHub.Start("block", o => Small(o, SlowConsumerPolicy.Block, 0.2));
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "blocked-sub");
        sub.Subscribe("bl", 1);
        using var pub = new Publisher(hub.SocketPath, "pub", "bl", Messages);
        int acked = pub.WaitUntilStalled(TimeSpan.FromMilliseconds(1200), TimeSpan.FromSeconds(20));
        Assert.That(acked, Is.LessThan(Messages));

        for (int i = 1; i <= Messages; i++)
        {
            ReceivedFrame f = sub.Expect(FrameType.Data, TimeSpan.FromSeconds(30));
            Assert.That(f.Sequence, Is.EqualTo((ulong)i), "still connected, nothing lost");
        }
        Assert.That(pub.WaitForAcks(Messages, TimeSpan.FromSeconds(30)), Is.True);
    }

    [Test]
    public void Drop_SkipsTheFullSubscriber_CountsItInNotDelivered_AndItSeesTheGaps()
    {
        using InProcessHub hub = InProcessHub.Start("drop", o => Small(o, SlowConsumerPolicy.Drop, 5));
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "dropping-sub");
        sub.Subscribe("dr", 1);
        using var pub = new Publisher(hub.SocketPath, "pub", "dr", Messages);
        Assert.That(pub.WaitForAcks(Messages, TimeSpan.FromSeconds(30)), Is.True, "a full subscriber never holds the publisher up");
        AckPayload[] acks = [.. pub.Acks.Select(a => a.Frame.Ack)];
        Assert.That(acks.Select(a => a.Delivered + a.NotDelivered), Is.All.EqualTo(1));
        int dropped = acks.Count(a => a.NotDelivered == 1);
        Assert.That(dropped, Is.Positive, "the queue overflowed");
        Assert.That(acks.Select(a => a.ChannelSequence), Is.EqualTo(Enumerable.Range(1, Messages).Select(i => (ulong)i)));

        var received = new List<ulong>();
        for (int i = 0; i < Messages - dropped; i++)
        {
            received.Add(sub.Expect(FrameType.Data).Sequence);
        }
        Assert.That(received, Is.Ordered.Ascending);
        Assert.That(sub.TryReadFrame(TimeSpan.FromMilliseconds(300), out ReceivedFrame? extra), Is.False, $"more than delivered: {extra}");

        // Once it has room again, it gets the next message, numbered after the ones it missed.
        using (RawClient late = RawClient.ConnectAndHandshake(hub.SocketPath, "late-pub"))
        {
            Assert.That(late.PublishAndAck("dr", "after", 1), Is.EqualTo(new AckPayload(1, 0, Messages + 1)));
        }
        ReceivedFrame after = sub.Expect(FrameType.Data);
        Assert.That(after.Sequence, Is.EqualTo((ulong)Messages + 1));
        Assert.That(after.Sequence - received[^1], Is.GreaterThan(1UL), "the subscriber sees the gap");

        sub.Dispose();
        var sw = Stopwatch.StartNew();
        while (!hub.Log.Contains(202, $"dropped for it {dropped},") && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(20);
        }
        Assert.That(hub.Log.Contains(202, $"'dropping-sub' disconnected"), Is.True);
        Assert.That(hub.Log.Contains(202, $"dropped for it {dropped},"), Is.True, string.Join("\n", hub.Log.Entries));
    }

    [Test]
    public void APublisherThatDoesNotReadItsAcks_IsNoLongerRead_UntilItDoes()
    {
        using InProcessHub hub = InProcessHub.Start("selfstall", o => o with { QueueMessages = 4 });
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "deaf-pub");
        const int Count = 40000; // 1.6 MB of Acks: far more than the socket buffers hold
        byte[] frame = RawClient.Frame(FrameType.Publish, 1, "nobody", "x"u8);
        Task sender = Background.Run(() =>
        {
            using var batch = new MemoryStream();
            for (int i = 1; i <= Count; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(16), (ulong)i);
                batch.Write(frame);
            }
            pub.Send(batch.ToArray());
        });
        Assert.That(sender.Wait(TimeSpan.FromSeconds(1.5)), Is.False,
            "the hub stopped reading a client whose own queue is full, so its sends block");

        for (int i = 1; i <= Count; i++)
        {
            AckPayload ack = pub.ExpectAck((ulong)i);
            Assert.That(ack.ChannelSequence, Is.EqualTo((ulong)i));
        }
        Assert.That(sender.Wait(TimeSpan.FromSeconds(10)), Is.True, "reading resumed once the client read its Acks");
        pub.AssertAlive();
    }
}
