using System.Buffers;
using System.Buffers.Binary;
using IpcCore.MessageQueues;
using IpcCore.Native;
using IpcCore.Protocol;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests.MessageQueues;

/// <summary>
/// Shared set-up of the mq frame codec fixtures: queues named per test (unlinked after each test, and no
/// name of the fixture's tag left at the end), frame builders and the loops that move bytes through.
/// </summary>
public abstract class MessageQueueFrameFixture
{
    protected static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);
    protected static readonly int MaxFrame = ProtocolLimits.Default.MaxFrameLength;

    private readonly List<string> _names = [];

    /// <summary>This fixture's name tag (see <see cref="PosixLeaks"/>).</summary>
    protected abstract string Tag { get; }

    [TearDown]
    public void UnlinkQueues()
    {
        foreach (string name in _names)
        {
            MessageQueue.TryUnlink(name);
        }
        _names.Clear();
    }

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    /// <summary>A new queue (read-write, blocking descriptor: the codec never waits anyway).</summary>
    protected MessageQueue CreateQueue(string what, int depth, int messageSize)
    {
        string name = TestNames.Posix($"{Tag}-{what}");
        _names.Add(name);
        return MessageQueue.Create(name, depth, messageSize);
    }

    protected static Random Seeded(int seed)
    {
        TestContext.Out.WriteLine($"seed {seed}");
        return new Random(seed);
    }

    /// <summary>A Data frame whose payload (random bytes with runs of NULs) follows from its sequence number.</summary>
    protected static byte[] DataFrame(ulong sequence, ushort priority, int payloadLength)
    {
        byte[] payload = new byte[payloadLength];
        var rng = new Random(unchecked((int)sequence * 7919 + priority));
        rng.NextBytes(payload);
        if (payloadLength > 0)
        {
            int zeros = rng.Next(0, Math.Min(payloadLength, 64) + 1);
            payload.AsSpan(rng.Next(0, payloadLength - zeros + 1), zeros).Clear();
        }
        byte[] frame = new byte[FrameWriter.FrameLength(ChannelBytes.Length, payloadLength)];
        FrameWriter.Write(frame, FrameType.Data, FrameFlags.None, sequence, ChannelBytes, payload, priority);
        return frame;
    }

    protected static ReadOnlySpan<byte> ChannelBytes => "test.mq"u8;

    protected static byte[] Concat(IEnumerable<byte[]> frames) => frames.SelectMany(f => f).ToArray();

    /// <summary>The frames of a valid stream, each checked by <see cref="FrameReader"/>.</summary>
    protected static List<(FrameHeader Header, byte[] Bytes)> ParseAll(ReadOnlySpan<byte> stream)
    {
        var frames = new List<(FrameHeader, byte[])>();
        while (!stream.IsEmpty)
        {
            FrameParseResult result = FrameReader.TryParse(stream, ProtocolLimits.Default, out Frame frame, out int needed, out ProtocolErrorCode error, out string? reason);
            Assert.That(result, Is.EqualTo(FrameParseResult.Complete), $"frame #{frames.Count}: {result} {error} {reason}");
            frames.Add((frame.Header, stream[..needed].ToArray()));
            stream = stream[needed..];
        }
        return frames;
    }

    /// <summary>
    /// One thread: writes <paramref name="input"/> in chunks split at random points; whenever the writer
    /// cannot take everything (full queue), reads through random-size destinations until the reader would
    /// block. Returns everything read.
    /// </summary>
    protected static byte[] PumpOneThread(MessageQueueFrameWriter writer, MessageQueueFrameReader reader, byte[] input,
        Random rng, int maxChunk, int maxRead)
    {
        var output = new ArrayBufferWriter<byte>(input.Length + 1);
        int written = 0;
        DateTime deadline = DateTime.UtcNow + Budget;
        while (true)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"stuck: {written} of {input.Length} written, {output.WrittenCount} read");
            bool drain = false;
            if (written < input.Length)
            {
                int chunk = Math.Min(input.Length - written, rng.Next(1, maxChunk + 1));
                IoResult result = writer.Write(input.AsSpan(written, chunk));
                Assert.That(result.Status, Is.AnyOf(IoStatus.Success, IoStatus.WouldBlock));
                written += result.BytesTransferred;
                drain = !result.IsSuccess || result.BytesTransferred < chunk || writer.HasPending;
            }
            else if (writer.HasPending)
            {
                writer.Flush();
                drain = true;
            }
            else
            {
                drain = true;
            }

            if (drain)
            {
                while (true)
                {
                    int size = rng.Next(1, maxRead + 1);
                    IoResult read = reader.Read(output.GetSpan(size)[..size]);
                    if (read.Status == IoStatus.WouldBlock)
                    {
                        Assert.That(reader.HasBufferedFrames, Is.False);
                        break;
                    }
                    Assert.That(read.BytesTransferred, Is.InRange(1, size));
                    output.Advance(read.BytesTransferred);
                }
                if (written == input.Length && !writer.HasPending)
                {
                    return output.WrittenSpan.ToArray();
                }
            }
        }
    }

    /// <summary>
    /// Two threads: one writes <paramref name="input"/> split at random points, waiting for POLLOUT when the
    /// queue is full; the other reads through random-size destinations, waiting for POLLIN when nothing is
    /// ready, until it has <paramref name="input"/>'s length. Returns what was read.
    /// </summary>
    protected static byte[] PumpTwoThreads(MessageQueue sendQueue, MessageQueue receiveQueue, byte[] input, int seed, int maxChunk, int maxRead)
    {
        using var failed = new CancellationTokenSource();
        CancellationToken token = failed.Token;
        DateTime deadline = DateTime.UtcNow + Budget;
        var output = new byte[input.Length];

        void Check(string who, string state)
        {
            token.ThrowIfCancellationRequested();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{who} stuck: {state}");
            }
        }

        Task writerTask = Task.Run(() =>
        {
            try
            {
                var writer = new MessageQueueFrameWriter(sendQueue);
                var rng = new Random(seed);
                int written = 0;
                while (written < input.Length || writer.HasPending)
                {
                    Check("writer", $"{written} of {input.Length} written");
                    IoResult result = written < input.Length
                        ? writer.Write(input.AsSpan(written, Math.Min(input.Length - written, rng.Next(1, maxChunk + 1))))
                        : writer.Flush();
                    written += result.BytesTransferred;
                    if (result.Status == IoStatus.WouldBlock || writer.HasPending)
                    {
                        FileDescriptor.Poll(sendQueue.Handle, PollEvents.POLLOUT, 100);
                    }
                }
            }
            catch
            {
                failed.Cancel();
                throw;
            }
        });

        Task readerTask = Task.Run(() =>
        {
            try
            {
                using var reader = new MessageQueueFrameReader(receiveQueue, MaxFrame);
                var rng = new Random(seed + 1);
                int read = 0;
                while (read < output.Length)
                {
                    Check("reader", $"{read} of {output.Length} read");
                    int size = Math.Min(output.Length - read, rng.Next(1, maxRead + 1));
                    IoResult result = reader.Read(output.AsSpan(read, size));
                    read += result.BytesTransferred;
                    if (result.Status == IoStatus.WouldBlock && !reader.HasBufferedFrames)
                    {
                        FileDescriptor.Poll(receiveQueue.Handle, PollEvents.POLLIN, 100);
                    }
                }
                // Nothing beyond the input may come out.
                Assert.That(reader.Read(new byte[16]).Status, Is.EqualTo(IoStatus.WouldBlock));
            }
            catch
            {
                failed.Cancel();
                throw;
            }
        });

        Assert.That(Task.WaitAll([writerTask, readerTask], Budget + TimeSpan.FromSeconds(10)), Is.True, "the threads did not finish");
        return output;
    }

    /// <summary>The sequence number of a Data frame made by <see cref="DataFrame"/>.</summary>
    protected static ulong SequenceOf(byte[] frame) => BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(16));
}
