using System.Buffers.Binary;
using System.Runtime.Versioning;
using IpcCore.MessageQueues;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.MessageQueues;

/// <summary>How the reader frames each priority's stream: buffered frames, malformed streams, limits, allocations.</summary>
[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class MessageQueueFrameReaderTests : MessageQueueFrameFixture
{
    protected override string Tag => "mqfreader";

    [Test]
    public void Frames_packed_in_one_message_are_returned_one_destination_at_a_time_with_HasBufferedFrames_set()
    {
        using MessageQueue queue = CreateQueue("buffered", 10, 1024);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[][] frames = [DataFrame(1, 0, 10), DataFrame(2, 0, 20), DataFrame(3, 0, 30)];
        queue.Send(Concat(frames));

        Assert.That(reader.HasBufferedFrames, Is.False);
        Assert.That(reader.Read([]), Is.EqualTo(new IoResult(IoStatus.Success, 0)), "an empty destination asks for nothing");
        foreach (byte[] frame in frames)
        {
            byte[] destination = new byte[frame.Length];
            Assert.That(reader.Read(destination), Is.EqualTo(new IoResult(IoStatus.Success, frame.Length)));
            Assert.That(destination, Is.EqualTo(frame));
            Assert.That(queue.GetAttributes().CurrentMessages, Is.Zero);
            Assert.That(reader.HasBufferedFrames, Is.EqualTo(frame != frames[^1]));
        }
        Assert.That(reader.Read(new byte[100]), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)));
    }

    [Test]
    public void An_incomplete_frame_is_held_back_and_empty_messages_are_harmless()
    {
        using MessageQueue queue = CreateQueue("incomplete", 10, 64);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[] frame = DataFrame(1, 3, 100);
        queue.Send(frame.AsSpan(0, 23), 3);
        queue.Send([], 3);
        queue.Send([], 8);
        Assert.That(reader.Read(new byte[500]).Status, Is.EqualTo(IoStatus.WouldBlock));
        queue.Send(frame.AsSpan(23, 64), 3);
        Assert.That(reader.Read(new byte[500]).Status, Is.EqualTo(IoStatus.WouldBlock));
        queue.Send(frame.AsSpan(87), 3);
        byte[] destination = new byte[500];
        Assert.That(reader.Read(destination), Is.EqualTo(new IoResult(IoStatus.Success, frame.Length)));
        Assert.That(destination.AsSpan(0, frame.Length).ToArray(), Is.EqualTo(frame));
    }

    [Test]
    public void A_stream_with_a_bad_magic_is_passed_through_as_it_is_and_FrameReader_reports_BadMagic()
    {
        Random rng = Seeded(5001);
        using MessageQueue queue = CreateQueue("badmagic", 10, 256);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[] good = DataFrame(1, 2, 40);
        byte[] garbage = new byte[200];
        rng.NextBytes(garbage);
        garbage[0] = (byte)'X';

        // A whole frame, then garbage in the same message: the frame, then the garbage at once (no header needed).
        queue.Send(Concat([good, garbage[..10]]), 2);
        byte[] output = ReadAvailable(reader);
        Assert.That(output, Is.EqualTo(Concat([good, garbage[..10]])));
        ReadOnlySpan<byte> afterGood = output.AsSpan(good.Length);
        Assert.That(FrameReader.TryParse(afterGood, ProtocolLimits.Default, out _, out _, out ProtocolErrorCode error, out _),
            Is.EqualTo(FrameParseResult.Invalid));
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.BadMagic));

        // From then on the stream's bytes come out as they arrive, even ones that look like a frame.
        queue.Send(garbage.AsSpan(10), 2);
        byte[] lookalike = DataFrame(2, 2, 300);
        queue.Send(lookalike.AsSpan(0, 30), 2);
        Assert.That(ReadAvailable(reader), Is.EqualTo(Concat([garbage[10..], lookalike[..30]])));

        // Another priority's stream is framed as before.
        byte[] other = DataFrame(3, 6, 300);
        queue.Send(other.AsSpan(0, 100), 6);
        Assert.That(reader.Read(new byte[1000]).Status, Is.EqualTo(IoStatus.WouldBlock));
        queue.Send(other.AsSpan(100), 6);
        Assert.That(ReadAvailable(reader), Is.EqualTo(other));
    }

    [Test]
    public void A_header_announcing_more_than_the_maximum_frame_is_passed_through_at_once_and_FrameReader_reports_PayloadTooLarge()
    {
        using MessageQueue queue = CreateQueue("toolong", 10, 256);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[] header = DataFrame(1, 0, 0)[..FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 0x7FFF_0000);

        queue.Send(header);
        byte[] output = ReadAvailable(reader);
        Assert.That(output, Is.EqualTo(header), "returned without waiting for the 2 GB it announces");
        Assert.That(FrameReader.TryParse(output, ProtocolLimits.Default, out _, out _, out ProtocolErrorCode error, out _),
            Is.EqualTo(FrameParseResult.Invalid));
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));

        // Whatever follows streams through message by message: nothing accumulates.
        byte[] chunk = new byte[256];
        chunk.AsSpan().Fill(0xAB);
        for (int i = 0; i < 50; i++)
        {
            queue.Send(chunk);
            Assert.That(ReadAvailable(reader), Is.EqualTo(chunk));
        }
    }

    [Test]
    public void A_frame_exactly_at_the_maximum_frame_length_is_framed_and_one_byte_more_is_not()
    {
        using MessageQueue queue = CreateQueue("limit", 10, 1024);
        byte[] frame = DataFrame(1, 0, 2900); // 2931 bytes: three messages
        using (var exact = new MessageQueueFrameReader(queue, frame.Length))
        {
            queue.Send(frame.AsSpan(0, 1000));
            Assert.That(exact.Read(new byte[5000]).Status, Is.EqualTo(IoStatus.WouldBlock), "framed: waits for the rest");
            queue.Send(frame.AsSpan(1000, 1000));
            queue.Send(frame.AsSpan(2000));
            Assert.That(ReadAvailable(exact), Is.EqualTo(frame));
        }
        using var shorter = new MessageQueueFrameReader(queue, frame.Length - 1);
        queue.Send(frame.AsSpan(0, 1000));
        Assert.That(ReadAvailable(shorter), Is.EqualTo(frame[..1000]), "passed through at once");
    }

    [Test]
    public void More_priorities_in_progress_than_maxStreams_throw_InvalidDataException()
    {
        using MessageQueue queue = CreateQueue("streams", 10, 64);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame, maxStreams: 2);
        byte[] frame = DataFrame(1, 0, 10);
        queue.Send(frame.AsSpan(0, 10), 1);
        queue.Send(frame.AsSpan(0, 10), 2);
        Assert.That(reader.Read(new byte[100]).Status, Is.EqualTo(IoStatus.WouldBlock));
        queue.Send(frame.AsSpan(0, 10), 3);
        Assert.That(() => reader.Read(new byte[100]), Throws.TypeOf<InvalidDataException>());
    }

    [Test]
    public void Streams_that_finished_their_frames_do_not_count_against_maxStreams()
    {
        using MessageQueue queue = CreateQueue("reuse", 10, 64);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame, maxStreams: 1);
        for (ushort priority = 0; priority < 100; priority++)
        {
            byte[] frame = DataFrame(priority, priority, 60);
            queue.Send(frame.AsSpan(0, 50), priority);
            queue.Send(frame.AsSpan(50), priority);
            Assert.That(ReadAvailable(reader), Is.EqualTo(frame));
        }
    }

    [Test]
    public void Steady_state_writing_and_reading_allocates_nothing()
    {
        using MessageQueue queue = CreateQueue("alloc", 10, 1024);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);
        byte[][] frames = [DataFrame(1, 0, 100), DataFrame(2, 5, 3000), DataFrame(3, 0, 700), DataFrame(4, 9, 10)];
        byte[] input = Concat(frames);
        byte[] destination = new byte[777];

        void Round()
        {
            int written = 0;
            int read = 0;
            while (read < input.Length)
            {
                if (written < input.Length)
                {
                    written += writer.Write(input.AsSpan(written, Math.Min(500, input.Length - written))).BytesTransferred;
                }
                else
                {
                    writer.Flush();
                }
                read += reader.Read(destination).BytesTransferred;
            }
        }

        for (int i = 0; i < 20; i++)
        {
            Round(); // warm up: pool buffers, JIT
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            Round();
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void A_disposed_reader_refuses_to_read()
    {
        using MessageQueue queue = CreateQueue("disposed", 2, 64);
        var reader = new MessageQueueFrameReader(queue, MaxFrame);
        queue.Send(DataFrame(1, 0, 5).AsSpan(0, 10));
        Assert.That(reader.Read(new byte[10]).Status, Is.EqualTo(IoStatus.WouldBlock));
        reader.Dispose();
        reader.Dispose();
        Assert.That(() => reader.Read(new byte[10]), Throws.TypeOf<ObjectDisposedException>());
    }

    // Everything the reader returns before it would block.
    private static byte[] ReadAvailable(MessageQueueFrameReader reader)
    {
        var output = new List<byte>();
        byte[] buffer = new byte[97];
        IoResult result;
        while ((result = reader.Read(buffer)).IsSuccess)
        {
            output.AddRange(buffer.AsSpan(0, result.BytesTransferred));
        }
        return [.. output];
    }
}
