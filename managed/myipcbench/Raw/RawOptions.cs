using System.Globalization;
using IpcCore.Protocol;
using IpcCore.Rings;
using MyIpcBench.Model;

namespace MyIpcBench.Raw;

/// <summary>Which end of a raw case a worker is.</summary>
internal enum RawRole
{
    /// <summary>Sends the stream (throughput) or the pings (latency).</summary>
    Send,

    /// <summary>Creates the objects, receives and checks the stream, echoes the pings.</summary>
    Receive,
}

/// <summary>The command line of <c>myipcbench worker raw</c>.</summary>
/// <param name="Mechanism">pipe, fifo, socket, mqueue or shm.</param>
/// <param name="Role">send or recv.</param>
/// <param name="Mode">Throughput or latency (ping-pong).</param>
/// <param name="MessageSize">Bytes per message, at least <see cref="Stamp.Size"/>.</param>
/// <param name="Count">Messages (throughput) or recorded round trips (latency).</param>
/// <param name="Directory">fifo and socket: where the FIFOs and the socket are created.</param>
/// <param name="Prefix">The case's unique object name, e.g. <c>ipcbench.1234.7</c>.</param>
/// <param name="Wake">shm: how a waiting side sleeps.</param>
/// <param name="SpinMicroseconds">shm: how long a waiting side spins before it sleeps (0: the ring's short default spin).</param>
/// <param name="RingBytes">shm: data bytes of each ring.</param>
/// <param name="ReportPath">Where the JSON <see cref="WorkerReport"/> goes.</param>
/// <param name="WarmupMilliseconds">How long the sender sends flagged warm-up messages (round trips) before the measured ones.</param>
internal sealed record RawOptions(
    TransportKind Mechanism,
    RawRole Role,
    BenchMode Mode,
    int MessageSize,
    long Count,
    string? Directory,
    string? Prefix,
    ShmWake Wake,
    int SpinMicroseconds,
    long RingBytes,
    string ReportPath,
    int WarmupMilliseconds = 500)
{
    /// <summary>The role as the report and the command line spell it.</summary>
    public string RoleName => Role == RawRole.Send ? "send" : "recv";

    /// <summary>At least this many warm-up messages, however short the warm-up time.</summary>
    public const long MinWarmup = 100;

    /// <summary>The warm-up time in CLOCK_MONOTONIC nanoseconds.</summary>
    public long WarmupNs => WarmupMilliseconds * 1_000_000L;

    /// <summary>Whether there is a return path (latency mode).</summary>
    public bool HasPong => Mode == BenchMode.Latency;

    /// <summary><c>DIR/PREFIX{suffix}</c>: a FIFO or the socket.</summary>
    public string FilePath(string suffix) => Path.Combine(Directory!, Prefix + suffix);

    /// <summary><c>/PREFIX{suffix}</c>: a message queue, shared memory object or semaphore.</summary>
    public string PosixName(string suffix) => "/" + Prefix + suffix;

    /// <summary>Why these options cannot run, or null when they can.</summary>
    public string? Problem()
    {
        if (MessageSize < Stamp.Size)
        {
            return Invariant($"--size must be at least {Stamp.Size} bytes (the sequence and time stamp), not {MessageSize}");
        }
        if (Count < 1)
        {
            return Invariant($"--count must be at least 1, not {Count}");
        }
        if (Mode == BenchMode.Latency && Count > int.MaxValue)
        {
            return Invariant($"--count {Count} is too many round trips to record (at most {int.MaxValue})");
        }
        if (WarmupMilliseconds is < 0 or > 60_000)
        {
            return Invariant($"--warmup-ms must be from 0 to 60000, not {WarmupMilliseconds}");
        }
        if (Mechanism != TransportKind.Pipe && !IsValidPrefix(Prefix))
        {
            return "--prefix is required: a unique name without '/' (e.g. ipcbench.1234.7)";
        }
        if (Mechanism is TransportKind.Fifo or TransportKind.Socket && string.IsNullOrEmpty(Directory))
        {
            return "--dir is required for fifo and socket";
        }
        if (Mechanism == TransportKind.SharedMemory)
        {
            if (SpinMicroseconds is < 0 or > 1_000_000)
            {
                return Invariant($"--spin-us must be from 0 to 1000000, not {SpinMicroseconds}");
            }
            if (RingBytes < ShmRing.MinCapacity || RingBytes > ShmRing.MaxCapacity || (RingBytes & (RingBytes - 1)) != 0)
            {
                return Invariant($"--ring-bytes must be a power of two from {ShmRing.MinCapacity} to {ShmRing.MaxCapacity}, not {RingBytes}");
            }
            if (MessageSize > ShmRing.MaxRecordFor(RingBytes))
            {
                return Invariant(
                    $"a {MessageSize}-byte message does not fit a ring of {RingBytes} bytes (at most {ShmRing.MaxRecordFor(RingBytes)}); raise --ring-bytes");
            }
        }
        return null;
    }

    private static bool IsValidPrefix(string? prefix)
        => !string.IsNullOrEmpty(prefix) && prefix.Length <= 200 && !prefix.AsSpan().ContainsAny('/', '\0');

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
