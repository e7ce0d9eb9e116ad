using IpcCore.Protocol;

namespace MyIpcBench.Model;

/// <summary>Through the hub (publisher process → hub → subscriber processes) or the bare mechanism between two processes.</summary>
public enum BenchPath
{
    Hub,
    Raw,
}

/// <summary>What a case measures.</summary>
public enum BenchMode
{
    /// <summary>A stream of messages as fast as the sender can go; delivered bytes over time.</summary>
    Throughput,

    /// <summary>Ping-pong: one message in flight; RTT/2 and one-way (CLOCK_MONOTONIC stamp in the payload).</summary>
    Latency,
}

/// <summary>How the shared-memory rings sleep (only meaningful for <see cref="TransportKind.SharedMemory"/>).</summary>
public enum ShmWake
{
    Futex,
    Semaphore,
}

/// <summary>One measurement: a transport on a path, a message size, a fan-out, a mode and, for shm, a wake-up setting.</summary>
/// <param name="Transport">The mechanism.</param>
/// <param name="Path">Through the hub or raw.</param>
/// <param name="MessageSize">Payload bytes per message (at least <see cref="Stamp.Size"/>).</param>
/// <param name="Subscribers">Receivers (1 for raw and latency cases).</param>
/// <param name="Mode">Throughput or latency.</param>
/// <param name="Messages">Messages to send (round trips in latency mode).</param>
/// <param name="Wake">shm only: futex or semaphore.</param>
/// <param name="SpinMicroseconds">How long the hub and a waiting client spin before they sleep (0: shm's default short spin, none elsewhere); raw: shm only.</param>
public sealed record BenchCase(
    TransportKind Transport,
    BenchPath Path,
    int MessageSize,
    int Subscribers,
    BenchMode Mode,
    long Messages,
    ShmWake Wake = ShmWake.Futex,
    int SpinMicroseconds = 0)
{
    /// <summary>The transport's short name: socket, fifo, mqueue, shm, pipe.</summary>
    public string TransportName => TransportNames.Short(Transport);

    /// <summary>"futex", "semaphore", "futex+spin50us" for shm; "" or "spin50us" for the others.</summary>
    public string Variant
    {
        get
        {
            string spin = SpinMicroseconds > 0 ? $"spin{SpinMicroseconds}us" : string.Empty;
            if (Transport != TransportKind.SharedMemory)
            {
                return spin;
            }
            string wake = Wake == ShmWake.Futex ? "futex" : "semaphore";
            return spin.Length > 0 ? wake + "+" + spin : wake;
        }
    }

    /// <summary>e.g. <c>shm(futex) hub 1024 B 1→8 throughput</c>.</summary>
    public override string ToString()
    {
        string variant = Variant.Length > 0 ? $"({Variant})" : string.Empty;
        return $"{TransportName}{variant} {Path.ToString().ToLowerInvariant()} {MessageSize} B 1→{Subscribers} {Mode.ToString().ToLowerInvariant()}";
    }
}

/// <summary>The command-line names of the transports.</summary>
public static class TransportNames
{
    /// <summary>socket, fifo, mqueue, shm or pipe.</summary>
    public static string Short(TransportKind kind) => kind switch
    {
        TransportKind.Socket => "socket",
        TransportKind.Fifo => "fifo",
        TransportKind.MessageQueue => "mqueue",
        TransportKind.SharedMemory => "shm",
        TransportKind.Pipe => "pipe",
        _ => kind.ToString(),
    };

    /// <summary>The table's names, as in the brief: Shared Memory, UNIX Socket, POSIX MQueue, Named Pipe (FIFO), Anonymous Pipe.</summary>
    public static string Long(TransportKind kind) => kind switch
    {
        TransportKind.Socket => "UNIX Socket",
        TransportKind.Fifo => "Named Pipe (FIFO)",
        TransportKind.MessageQueue => "POSIX MQueue",
        TransportKind.SharedMemory => "Shared Memory",
        TransportKind.Pipe => "Anonymous Pipe",
        _ => kind.ToString(),
    };
}
