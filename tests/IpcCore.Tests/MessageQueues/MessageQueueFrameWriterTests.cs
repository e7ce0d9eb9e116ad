using System.Runtime.Versioning;
using IpcCore.MessageQueues;
using IpcCore.Native;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.MessageQueues;

/// <summary>How the writer cuts a frame stream into messages, and how it behaves when the queue is full.</summary>
[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class MessageQueueFrameWriterTests : MessageQueueFrameFixture
{
    protected override string Tag => "mqfwriter";

    [Test]
    public void Frames_of_one_priority_are_packed_up_to_the_message_size_and_a_new_priority_starts_a_new_message()
    {
        using MessageQueue queue = CreateQueue("pack", 10, 256);
        var writer = new MessageQueueFrameWriter(queue);
        byte[] a = DataFrame(1, 2, 73);   // 104 bytes each
        byte[] b = DataFrame(2, 2, 73);
        byte[] c = DataFrame(3, 2, 73);
        byte[] big = DataFrame(4, 2, 569); // 600 bytes
        byte[] other = DataFrame(5, 5, 73);
        byte[] last = DataFrame(6, 2, 73);
        byte[] input = Concat([a, b, c, big, other, last]);

        Assert.That(writer.Write(input), Is.EqualTo(new IoResult(IoStatus.Success, input.Length)));
        Assert.That(writer.HasPending, Is.False);

        // 312 bytes of priority 2 before 'other', then 600: 256 + 256 + 256 + 144; then 104 at 5; then 104 at 2.
        List<(int Length, uint Priority)> messages = ReceiveRaw(queue, out byte[] bytes);
        Assert.That(messages, Is.EqualTo(new List<(int, uint)> { (104, 5), (256, 2), (256, 2), (256, 2), (144, 2), (104, 2) }));
        Assert.That(bytes, Is.EqualTo(Concat([other, a, b, c, big, last])), "per priority, the bytes are the stream");
    }

    [Test]
    public void A_header_split_across_writes_is_held_until_complete_and_then_sent_at_its_priority()
    {
        using MessageQueue queue = CreateQueue("header", 10, 256);
        var writer = new MessageQueueFrameWriter(queue);
        byte[] frame = DataFrame(1, 300, 20);

        Assert.That(writer.Write(frame.AsSpan(0, 5)), Is.EqualTo(new IoResult(IoStatus.Success, 5)));
        Assert.That(writer.Write(frame.AsSpan(5, 6)), Is.EqualTo(new IoResult(IoStatus.Success, 6)), "cut inside the priority field");
        Assert.That(writer.HasPending, Is.False, "a partial header needs more bytes, not room");
        Assert.That(queue.GetAttributes().CurrentMessages, Is.Zero);
        Assert.That(writer.Write(frame.AsSpan(11, 20)), Is.EqualTo(new IoResult(IoStatus.Success, 20)));
        Assert.That(writer.Write(frame.AsSpan(31)), Is.EqualTo(new IoResult(IoStatus.Success, frame.Length - 31)));

        List<(int Length, uint Priority)> messages = ReceiveRaw(queue, out byte[] bytes);
        Assert.That(messages, Is.EqualTo(new List<(int, uint)> { (31 - 0, 300), (frame.Length - 31, 300) }),
            "each Write sends what it has; the header went out with the first body bytes");
        Assert.That(bytes, Is.EqualTo(frame));
    }

    [Test]
    public void A_full_queue_gives_WouldBlock_and_HasPending_until_Flush_finds_room()
    {
        Random rng = Seeded(4003);
        using MessageQueue queue = CreateQueue("full", 2, 64);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[][] frames = [.. Enumerable.Range(0, 10).Select(i => DataFrame((ulong)i, 4, 46))]; // 77 bytes each
        byte[] input = Concat(frames);

        // Two messages fit; the third is assembled and held: 64 + 64 + 64 bytes taken (frame 3 up to a message boundary).
        IoResult first = writer.Write(input);
        Assert.That(first, Is.EqualTo(new IoResult(IoStatus.Success, 192)));
        Assert.That(writer.HasPending, Is.True);
        Assert.That(queue.GetAttributes().CurrentMessages, Is.EqualTo(2));
        Assert.That(writer.Write(input.AsSpan(192)), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)), "the pending message goes first");
        Assert.That(writer.Flush().Status, Is.EqualTo(IoStatus.WouldBlock));
        Assert.That(FileDescriptor.Poll(queue.Handle, PollEvents.POLLOUT, 0) & PollEvents.POLLOUT, Is.EqualTo((PollEvents)0));

        // The reader takes frame 1 (both queued messages); the queue has room again.
        byte[] frame1 = new byte[77];
        Assert.That(reader.Read(frame1), Is.EqualTo(new IoResult(IoStatus.Success, 77)));
        Assert.That(frame1, Is.EqualTo(frames[0]));
        Assert.That(FileDescriptor.Poll(queue.Handle, PollEvents.POLLOUT, 0) & PollEvents.POLLOUT, Is.EqualTo(PollEvents.POLLOUT));
        Assert.That(writer.Flush(), Is.EqualTo(new IoResult(IoStatus.Success, 0)));
        Assert.That(writer.HasPending, Is.False);
        Assert.That(writer.Flush(), Is.EqualTo(new IoResult(IoStatus.Success, 0)), "nothing pending: nothing to do");

        byte[] rest = PumpOneThread(writer, reader, input[192..], rng, maxChunk: 100, maxRead: 100);
        Assert.That(Concat([frame1, rest]), Is.EqualTo(input), "no byte lost, duplicated or reordered");
    }

    [Test]
    public void A_frame_longer_than_the_message_sent_straight_from_the_callers_bytes_is_not_taken_when_the_queue_is_full()
    {
        using MessageQueue queue = CreateQueue("direct", 1, 64);
        var writer = new MessageQueueFrameWriter(queue);
        byte[] frame = DataFrame(1, 0, 400);

        // The header and the first body bytes fill message 1; the next whole message of body cannot be sent.
        IoResult first = writer.Write(frame);
        Assert.That(first, Is.EqualTo(new IoResult(IoStatus.Success, 64)));
        Assert.That(writer.HasPending, Is.False, "the rest was not taken, so nothing is held");
        Assert.That(writer.Write(frame.AsSpan(64)), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)));

        var received = new List<byte>();
        byte[] buffer = new byte[64];
        int written = 64;
        while (received.Count < frame.Length)
        {
            Assert.That(queue.TryReceive(buffer, out int length, out uint priority), Is.True);
            Assert.That(priority, Is.Zero);
            received.AddRange(buffer.AsSpan(0, length));
            if (written < frame.Length)
            {
                written += writer.Write(frame.AsSpan(written)).BytesTransferred;
            }
            else
            {
                writer.Flush();
            }
        }
        Assert.That(received, Is.EqualTo(frame));
    }

    [Test]
    public void Bytes_that_are_not_a_frame_stream_are_refused_and_break_the_writer()
    {
        using MessageQueue queue = CreateQueue("bad", 2, 64);
        var badMagic = new MessageQueueFrameWriter(queue);
        byte[] frame = DataFrame(1, 0, 10);
        frame[0] = (byte)'X';
        Assert.That(() => badMagic.Write(frame), Throws.ArgumentException.With.Message.Contains("magic"));
        Assert.That(() => badMagic.Write(DataFrame(2, 0, 10)), Throws.InvalidOperationException);

        var badPriority = new MessageQueueFrameWriter(queue);
        byte[] tooHigh = DataFrame(3, 0, 10);
        tooHigh[FrameHeader.PriorityOffset + 1] = 0x80; // 32768
        Assert.That(() => badPriority.Write(tooHigh), Throws.ArgumentException.With.Message.Contains("priority"));
        Assert.That(queue.GetAttributes().CurrentMessages, Is.Zero);
    }

    [Test]
    public void A_send_failure_other_than_a_full_queue_throws()
    {
        using MessageQueue readOnly = CreateQueue("rdonly", 2, 64);
        using MessageQueue receiveOnly = MessageQueue.Open(readOnly.Name, FileAccess.Read);
        var writer = new MessageQueueFrameWriter(receiveOnly);
        Assert.That(() => writer.Write(DataFrame(1, 0, 10)), Throws.TypeOf<IpcException>().With.Property(nameof(IpcException.ErrnoName)).EqualTo("EBADF"));
    }

    // Receives every queued message as it is: (length, priority) each, and their bytes in order.
    private static List<(int Length, uint Priority)> ReceiveRaw(MessageQueue queue, out byte[] bytes)
    {
        var messages = new List<(int, uint)>();
        var all = new List<byte>();
        byte[] buffer = new byte[queue.MaxMessageSize];
        while (queue.TryReceive(buffer, out int length, out uint priority))
        {
            messages.Add((length, priority));
            all.AddRange(buffer.AsSpan(0, length));
        }
        bytes = [.. all];
        return messages;
    }
}
