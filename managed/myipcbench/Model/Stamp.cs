using System.Buffers.Binary;

namespace MyIpcBench.Model;

/// <summary>
/// The first 16 bytes of every benchmark payload: a sequence number (checked by the receiver: nothing lost,
/// nothing reordered) and the sender's CLOCK_MONOTONIC time in ns (one-way latency; the clock is system-wide).
/// </summary>
public static class Stamp
{
    public const int Size = 16;

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
