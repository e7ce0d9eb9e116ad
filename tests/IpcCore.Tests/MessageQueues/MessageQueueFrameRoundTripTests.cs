using System.Runtime.Versioning;
using IpcCore.MessageQueues;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.MessageQueues;

/// <summary>Frame streams of one priority through a real queue: byte-for-byte, whatever the splits and sizes.</summary>
[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class MessageQueueFrameRoundTripTests : MessageQueueFrameFixture
{
    protected override string Tag => "mqfrt";

    [Test]
    public void Random_frames_split_anywhere_and_read_in_random_sizes_come_out_byte_for_byte()
    {
        Random rng = Seeded(1001);
        using MessageQueue queue = CreateQueue("random", 10, 1024);
        var frames = new List<byte[]>();
        for (int i = 0; i < 80; i++)
        {
            int payload = (i % 4) switch
            {
                0 => 0,
                1 => rng.Next(0, 65),
                2 => rng.Next(0, 4097),
                _ => rng.Next(0, 64 * 1024 + 1),
            };
            frames.Add(DataFrame((ulong)i, priority: 3, payload));
        }
        byte[] input = Concat(frames);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);

        byte[] output = PumpOneThread(writer, reader, input, rng, maxChunk: 10_000, maxRead: 5_000);

        Assert.That(output, Is.EqualTo(input));
        Assert.That(ParseAll(output), Has.Count.EqualTo(frames.Count));
    }

    [Test]
    public void Frames_larger_than_the_message_size_are_reassembled_exactly()
    {
        Random rng = Seeded(1002);
        using MessageQueue queue = CreateQueue("large", 10, 8192);
        int overhead = FrameWriterOverhead;
        // 20,000-byte frames, and frames just around one and two message sizes, between small ones.
        int[] frameLengths = [20_000, 40, 8191, 8192, 8193, 20_000, overhead, 16_385, 20_000, 100];
        byte[][] frames = [.. frameLengths.Select((length, i) => DataFrame((ulong)i, priority: 1, length - overhead))];
        byte[] input = Concat(frames);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);

        byte[] output = PumpOneThread(writer, reader, input, rng, maxChunk: 30_000, maxRead: 30_000);

        Assert.That(output, Is.EqualTo(input));
        Assert.That(ParseAll(output).Select(f => f.Header.FrameLength), Is.EqualTo(frameLengths.Select(l => (long)l)));
    }

    [TestCase(1, 2001)]
    [TestCase(32, 2032)]
    public void Tiny_message_sizes_still_carry_every_byte(int messageSize, int seed)
    {
        Random rng = Seeded(seed);
        using MessageQueue queue = CreateQueue("tiny", 10, messageSize);
        byte[][] frames = [.. Enumerable.Range(0, 30).Select(i => DataFrame((ulong)i, (ushort)(i % 3), rng.Next(0, 81)))];
        byte[] input = Concat(frames);
        var writer = new MessageQueueFrameWriter(queue);
        using var reader = new MessageQueueFrameReader(queue, MaxFrame);

        byte[] output = PumpOneThread(writer, reader, input, rng, maxChunk: 50, maxRead: 40);

        // Three priorities: frames may overtake each other, but each priority keeps its order and every frame is whole.
        List<(FrameHeader Header, byte[] Bytes)> received = ParseAll(output);
        Assert.That(received.Select(f => f.Bytes), Is.EquivalentTo(frames));
        for (ushort priority = 0; priority < 3; priority++)
        {
            Assert.That(received.Where(f => f.Header.Priority == priority).Select(f => f.Header.Sequence), Is.Ordered);
        }
    }

    [Test]
    public void Ten_thousand_frames_pass_a_depth_10_queue_with_a_concurrent_reader_without_loss_duplication_or_reordering()
    {
        const int seed = 1004;
        Random rng = Seeded(seed);
        using MessageQueue sendQueue = CreateQueue("10k", 10, 256);
        using MessageQueue receiveQueue = MessageQueue.Open(sendQueue.Name, FileAccess.Read);
        byte[][] frames = [.. Enumerable.Range(0, 10_000).Select(i => DataFrame((ulong)i, priority: 7, rng.Next(0, 401)))];
        byte[] input = Concat(frames);

        byte[] output = PumpTwoThreads(sendQueue, receiveQueue, input, seed, maxChunk: 600, maxRead: 700);

        List<(FrameHeader Header, byte[] Bytes)> received = ParseAll(output);
        Assert.That(received, Has.Count.EqualTo(frames.Length));
        Assert.That(received.Select(f => f.Header.Sequence), Is.EqualTo(Enumerable.Range(0, frames.Length).Select(i => (ulong)i)));
        Assert.That(output, Is.EqualTo(input));
    }

    private static int FrameWriterOverhead => FrameWriter.FrameLength(ChannelBytes.Length, 0);
}
