using System.Buffers.Binary;

namespace MyIpcBench.Model;

/// <summary>
/// The first 16 bytes of every benchmark payload: a sequence number (checked by the receiver: nothing lost,
/// nothing reordered) and the sender's CLOCK_MONOTONIC time in ns (one-way latency; the clock is system-wide).
/// </summary>
public static class Stamp
{
    public const int Size = 16;

    /// <summary>Set in the sequence of warm-up messages (sent first, for about <see cref="WarmupNs"/>, and not measured).</summary>
    public const long WarmupFlag = 1L << 62;

    /// <summary>
    /// Also set in the last warm-up message: each subscriber answers it (through the hub), and the publisher
    /// starts the measured stream only when all have, so it starts with empty queues rather than behind the
    /// warm-up's backlog (a queue tens of MB deep no longer fits the caches and halves the rate).
    /// </summary>
    public const long WarmupEndFlag = 1L << 61;

    /// <summary>
    /// How long senders warm up: the runtime compiles hot methods again, optimised, after 30 calls and a
    /// 100 ms delay, so the first ~0.2 s of a process run slower code than the steady state being measured.
    /// </summary>
    public const long WarmupNs = 500_000_000;

    /// <summary>Writes the sequence and the current time.</summary>
    public static void Write(Span<byte> payload, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], NowNs());
    }

    public static long Sequence(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload);

    public static long SentNs(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);

    /// <summary>CLOCK_MONOTONIC in ns (Stopwatch is CLOCK_MONOTONIC with a 1 ns tick on Linux).</summary>
    public static long NowNs() => System.Diagnostics.Stopwatch.GetTimestamp();
}
