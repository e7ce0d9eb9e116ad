using System.Buffers.Binary;
using System.Text;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

[TestFixture]
public sealed class OutboundQueueTests
{
    private static byte[] Publish(string channel, int payloadLength, ulong requestId = 9)
    {
        byte[] ch = Encoding.UTF8.GetBytes(channel);
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)i;
        }
        byte[] frame = new byte[FrameWriter.FrameLength(ch.Length, payloadLength)];
        FrameWriter.Write(frame, FrameType.Publish, FrameFlags.NoAck, requestId, ch, payload);
        return frame;
    }

    [Test]
    public void Data_IsAdmittedWithinBothLimits_Only()
    {
        byte[] frame = Publish("c", 100); // 125 bytes
        using var byMessages = new OutboundQueue(maxMessages: 3, maxBytes: 1 << 20);
        Assert.That(byMessages.TryEnqueueData(frame, 1) && byMessages.TryEnqueueData(frame, 2) && byMessages.TryEnqueueData(frame, 3), Is.True);
        Assert.That(byMessages.TryEnqueueData(frame, 4), Is.False, "the fourth message is over the message limit");
        Assert.That(byMessages.Messages, Is.EqualTo(3));
        Assert.That(byMessages.IsOverLimit, Is.True);

        using var byBytes = new OutboundQueue(maxMessages: 100, maxBytes: 300);
        Assert.That(byBytes.TryEnqueueData(frame, 1) && byBytes.TryEnqueueData(frame, 2), Is.True);
        Assert.That(byBytes.TryEnqueueData(frame, 3), Is.False, "375 bytes would pass 300");
        Assert.That(byBytes.Bytes, Is.EqualTo(250));
        Assert.That(byBytes.IsOverLimit, Is.False);
    }

    [Test]
    public void Data_IsThePublishFrameWithTypeFlagsAndSequencePatched()
    {
        byte[] publish = Publish("weather.today", 10, requestId: 77);
        using var queue = new OutboundQueue(10, 1 << 20);
        Assert.That(queue.TryEnqueueData(publish, 5), Is.True);
        byte[] data = queue.Pending.ToArray();
        Assert.That(FrameReader.TryParse(data, ProtocolLimits.Default, out Frame frame, out int needed, out _, out _), Is.EqualTo(FrameParseResult.Complete));
        (FrameType Type, FrameFlags Flags, ulong Sequence, string Channel, byte[] Payload) seen =
            (frame.Type, frame.Flags, frame.Sequence, Encoding.UTF8.GetString(frame.Channel), frame.Payload.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(seen.Type, Is.EqualTo(FrameType.Data));
            Assert.That(seen.Flags, Is.EqualTo(FrameFlags.None));
            Assert.That(seen.Sequence, Is.EqualTo(5UL));
            Assert.That(seen.Channel, Is.EqualTo("weather.today"));
            Assert.That(seen.Payload, Is.EqualTo(publish[(publish.Length - 10)..]));
            Assert.That(needed, Is.EqualTo(publish.Length));
        });
    }

    [Test]
    public void Messages_CountDown_AtFrameBoundaries_AsBytesAreWritten()
    {
        byte[] frame = Publish("c", 76); // 101 bytes
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(frame, 1);
        queue.TryEnqueueData(frame, 2);
        queue.TryEnqueueData(frame, 3);
        queue.Advance(50);
        Assert.That(queue.Messages, Is.EqualTo(3), "the first frame is only half written");
        queue.Advance(51);
        Assert.That(queue.Messages, Is.EqualTo(2));
        queue.Advance(150);
        Assert.That(queue.Messages, Is.EqualTo(1));
        Assert.That(queue.Bytes, Is.EqualTo(52));
        queue.Advance(52);
        Assert.That(queue.Messages, Is.Zero);
        Assert.That(queue.HasPending, Is.False);
    }

    [Test]
    public void ControlFrames_IgnoreTheLimits_AndMakeTheQueueOverLimit()
    {
        using var queue = new OutboundQueue(maxMessages: 2, maxBytes: 1 << 20);
        queue.EnqueueAck(1, new AckPayload(1, 0, 1));
        queue.EnqueueAck(2, new AckPayload(1, 0, 2));
        queue.EnqueueError(3, ProtocolErrorCode.NotSubscribed, "no", fatal: false);
        Assert.That(queue.Messages, Is.EqualTo(3));
        Assert.That(queue.IsOverLimit, Is.True);
        Assert.That(queue.CanAccept(30), Is.False);
    }

    [Test]
    public void DiscardUnsent_KeepsOnlyAPartlyWrittenFrontFrame()
    {
        byte[] frame = Publish("c", 76); // 101 bytes
        using var queue = new OutboundQueue(10, 1 << 20);
        for (ulong i = 1; i <= 4; i++)
        {
            queue.TryEnqueueData(frame, i);
        }
        queue.Advance(120); // frame 1 written, frame 2 partly
        queue.DiscardUnsent();
        Assert.That(queue.Messages, Is.EqualTo(1));
        Assert.That(queue.Bytes, Is.EqualTo(82), "the rest of frame 2");
        queue.EnqueueError(0, ProtocolErrorCode.SlowConsumer, "slow", fatal: true);
        Assert.That(queue.Messages, Is.EqualTo(2));

        using var fresh = new OutboundQueue(10, 1 << 20);
        fresh.TryEnqueueData(frame, 1);
        fresh.TryEnqueueData(frame, 2);
        fresh.Advance(101); // exactly one frame
        fresh.DiscardUnsent();
        Assert.That(fresh.HasPending, Is.False, "nothing partly written: everything goes");
        Assert.That(fresh.Messages, Is.Zero);
    }

    [Test]
    public void RandomTraffic_KeepsTheByteStreamIntact_ThroughGrowthAndCompaction()
    {
        var random = new Random(42);
        using var queue = new OutboundQueue(100000, 64L << 20);
        var expected = new List<byte>();
        var written = new List<byte>();
        ulong seq = 0;
        for (int round = 0; round < 3000; round++)
        {
            int n = random.Next(0, 4);
            for (int i = 0; i < n; i++)
            {
                byte[] frame = Publish("r", random.Next(0, random.Next(2) == 0 ? 200 : 40000));
                Assert.That(queue.TryEnqueueData(frame, ++seq), Is.True);
                byte[] copy = (byte[])frame.Clone();
                copy[5] = (byte)FrameType.Data;
                BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(6), 0);
                BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(16), seq);
                expected.AddRange(copy);
            }
            int take = Math.Min(queue.Bytes, random.Next(0, 60000));
            written.AddRange(queue.Pending[..take].ToArray());
            queue.Advance(take);
        }
        written.AddRange(queue.Pending.ToArray());
        queue.Advance(queue.Bytes);
        Assert.That(written, Is.EqualTo(expected));
        Assert.That(queue.Messages, Is.Zero);
        Assert.That(queue.Capacity, Is.LessThanOrEqualTo(256 * 1024), "the queue never needed more than 256 KiB here");
    }

    [Test]
    public void ALargeBuffer_IsKeptThroughABusyStream_AndGivenBackOnceTheTrafficIsCalm()
    {
        using var queue = new OutboundQueue(100000, 64L << 20);
        ulong seq = 0;
        for (int burst = 0; burst < 3; burst++)
        {
            // A burst of 1.2 MB, drained in one go: the queue empties once per burst, like a flush.
            for (int i = 0; i < 30; i++)
            {
                Assert.That(queue.TryEnqueueData(Publish("r", 40000), ++seq), Is.True);
            }
            queue.Advance(queue.Bytes);
        }
        int grown = queue.Capacity;
        Assert.That(grown, Is.GreaterThan(256 * 1024), "the queue grew for the bursts, and kept its buffer between them");

        for (int i = 0; i < 63; i++)
        {
            Assert.That(queue.TryEnqueueData(Publish("r", 100), ++seq), Is.True);
            queue.Advance(queue.Bytes);
            Assert.That(queue.Capacity, Is.EqualTo(grown), $"still kept after {i + 1} calm empties");
        }
        Assert.That(queue.TryEnqueueData(Publish("r", 100), ++seq), Is.True);
        queue.Advance(queue.Bytes);
        Assert.That(queue.Capacity, Is.LessThanOrEqualTo(256 * 1024), "after 64 calm empties the large buffer goes back to the pool");
    }

    [Test]
    public void EnqueueAndAdvance_AllocateNothing_OnceWarm()
    {
        byte[] frame = Publish("c", 500);
        using var queue = new OutboundQueue(1000, 1 << 20);
        for (int i = 0; i < 200; i++)
        {
            queue.TryEnqueueData(frame, (ulong)i);
            queue.EnqueueAck((ulong)i, new AckPayload(1, 0, (ulong)i));
        }
        queue.Advance(queue.Bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10000; i++)
        {
            queue.TryEnqueueData(frame, (ulong)i);
            queue.EnqueueAck((ulong)i, new AckPayload(1, 0, (ulong)i));
            if (i % 50 == 0)
            {
                queue.Advance(queue.Bytes);
            }
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
