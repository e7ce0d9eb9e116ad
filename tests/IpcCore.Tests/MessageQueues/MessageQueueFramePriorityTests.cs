using System.Runtime.Versioning;
using IpcCore.MessageQueues;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.MessageQueues;

/// <summary>Frames of several priorities: whole frames, per-priority order, and higher priorities overtaking queued lower ones.</summary>
[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class MessageQueueFramePriorityTests : MessageQueueFrameFixture
{
    private const ushort Low = 1;
    private const ushort High = 9;

    protected override string Tag => "mqfprio";

    [Test]
    public void With_concurrent_threads_every_frame_arrives_whole_and_each_priority_in_order()
    {
        const int seed = 3001;
        Random rng = Seeded(seed);
        using MessageQueue sendQueue = CreateQueue("mixed", 10, 512);
        using MessageQueue receiveQueue = MessageQueue.Open(sendQueue.Name, FileAccess.Read);
        ushort[] priorities = [0, 1, 2, 100, FrameHeader.MaxPriority];
        var frames = new byte[3000][];
        for (int i = 0; i < frames.Length; i++)
        {
            int payload = rng.Next(20) == 0 ? rng.Next(0, 20_001) : rng.Next(0, 3001);
            frames[i] = DataFrame((ulong)i, priorities[rng.Next(priorities.Length)], payload);
        }
        byte[] input = Concat(frames);

        byte[] output = PumpTwoThreads(sendQueue, receiveQueue, input, seed, maxChunk: 4000, maxRead: 3000);

        List<(FrameHeader Header, byte[] Bytes)> received = ParseAll(output);
        Assert.That(received.Select(f => f.Header.Sequence).Order(), Is.EqualTo(Enumerable.Range(0, frames.Length).Select(i => (ulong)i)),
            "every frame exactly once");
        foreach ((FrameHeader header, byte[] bytes) in received)
        {
            Assert.That(bytes, Is.EqualTo(frames[header.Sequence]), $"frame {header.Sequence}");
        }
        foreach (ushort priority in priorities)
        {
            Assert.That(received.Where(f => f.Header.Priority == priority).Select(f => f.Header.Sequence), Is.Ordered, $"priority {priority}");
        }
    }

    [Test]
    public void After_the_queue_filled_up_a_later_higher_priority_frame_comes_out_before_earlier_lower_ones()
    {
        using MessageQueue queue = CreateQueue("overtake", 10, 256);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        // Each frame fits one message, and each Write sends its message: one message per frame.
        byte[][] low = [.. Enumerable.Range(0, 11).Select(i => DataFrame((ulong)i, Low, 100))];
        byte[] high = DataFrame(100, High, 100);

        for (int i = 0; i < 9; i++)
        {
            Assert.That(writer.Write(low[i]), Is.EqualTo(new IoResult(IoStatus.Success, low[i].Length)));
        }
        Assert.That(writer.Write(high), Is.EqualTo(new IoResult(IoStatus.Success, high.Length)));
        Assert.That(queue.GetAttributes().CurrentMessages, Is.EqualTo(10), "the queue is full");
        Assert.That(writer.Write(low[9]), Is.EqualTo(new IoResult(IoStatus.Success, low[9].Length)), "taken, held as the pending message");
        Assert.That(writer.HasPending, Is.True);
        Assert.That(writer.Write(low[10]).Status, Is.EqualTo(IoStatus.WouldBlock));

        byte[] output = ReadAll(reader);
        Assert.That(output, Is.EqualTo(Concat([high, .. low[..9]])), "the high-priority frame first, then the low ones in order");

        Assert.That(writer.Flush(), Is.EqualTo(new IoResult(IoStatus.Success, 0)));
        Assert.That(writer.HasPending, Is.False);
        Assert.That(writer.Write(low[10]).BytesTransferred, Is.EqualTo(low[10].Length));
        Assert.That(ReadAll(reader), Is.EqualTo(Concat([low[9], low[10]])));
    }

    [Test]
    public void A_higher_priority_frame_overtakes_a_lower_priority_frame_still_arriving()
    {
        using MessageQueue queue = CreateQueue("partial", 10, 256);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[] low = DataFrame(1, Low, 700);   // three messages
        byte[] high = DataFrame(2, High, 50);

        Assert.That(writer.Write(low.AsSpan(0, 100)).BytesTransferred, Is.EqualTo(100));
        Assert.That(reader.Read(new byte[1000]).Status, Is.EqualTo(IoStatus.WouldBlock), "the low frame is incomplete");
        Assert.That(reader.HasBufferedFrames, Is.False);
        Assert.That(writer.Write(low.AsSpan(100)).BytesTransferred, Is.EqualTo(low.Length - 100));
        Assert.That(writer.Write(high).BytesTransferred, Is.EqualTo(high.Length));

        // The queue holds the low frame's last messages and the high frame's message, received first.
        Assert.That(ReadAll(reader), Is.EqualTo(Concat([high, low])));
    }

    [Test]
    public void A_partly_returned_frame_is_finished_before_a_higher_priority_frame()
    {
        using MessageQueue queue = CreateQueue("finish", 10, 256);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[] low = DataFrame(1, Low, 150);
        byte[] high = DataFrame(2, High, 150);

        writer.Write(low);
        byte[] first = new byte[10];
        Assert.That(reader.Read(first), Is.EqualTo(new IoResult(IoStatus.Success, 10)));
        Assert.That(reader.HasBufferedFrames, Is.True);
        writer.Write(high);

        byte[] rest = ReadAll(reader);
        Assert.That(Concat([first, rest]), Is.EqualTo(Concat([low, high])));
    }

    private static byte[] ReadAll(MessageQueueFrameReader reader)
    {
        var output = new List<byte>();
        byte[] buffer = new byte[333];
        IoResult result;
        while ((result = reader.Read(buffer)).IsSuccess)
        {
            output.AddRange(buffer.AsSpan(0, result.BytesTransferred));
        }
        Assert.That(reader.HasBufferedFrames, Is.False);
        return [.. output];
    }
}
