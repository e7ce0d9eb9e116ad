using IpcCore.Protocol;
using MyIpcBench.Model;

namespace MyIpcBench;

/// <summary>What to measure and how to report it (the command line, validated).</summary>
public sealed record BenchSettings
{
    /// <summary>Messages per throughput case; null: 1,000,000, fewer where a case would take over ~10 s.</summary>
    public long? Iterations { get; init; }

    /// <summary>Round trips per latency case; null: derived from <see cref="Iterations"/> (at most 20,000).</summary>
    public long? RoundTrips { get; init; }

    public IReadOnlyList<int> MessageSizes { get; init; } = [1024];

    public IReadOnlyList<TransportKind> Backends { get; init; } = DefaultBackends;

    public IReadOnlyList<int> Subscribers { get; init; } = [1];

    public bool Throughput { get; init; } = true;

    public bool Latency { get; init; } = true;

    public bool Hub { get; init; } = true;

    public bool Raw { get; init; } = true;

    /// <summary>shm wake-up variants to run (futex and semaphore by default).</summary>
    public IReadOnlyList<ShmWake> ShmWakes { get; init; } = [ShmWake.Futex, ShmWake.Semaphore];

    /// <summary>Spin settings in µs to run every transport with (0 = no spin; shm: its default short spin).</summary>
    public IReadOnlyList<int> Spins { get; init; } = [0, 50];

    public bool Json { get; init; }

    public bool Csv { get; init; }

    public string? ChartPath { get; init; }

    /// <summary>Whether a live progress display may be drawn (stderr is a terminal and --no-progress not given).</summary>
    public bool Progress { get; init; } = true;

    /// <summary>Where bin/myipchub is (null: beside this program, then bin/ of the repository).</summary>
    public string? HubPath { get; init; }

    /// <summary>How long each case's sender warms up (flagged messages, not measured) before the measured part.</summary>
    public int WarmupMilliseconds { get; init; } = (int)(Model.Stamp.WarmupNs / 1_000_000);

    /// <summary>The time a throughput case aims to stay under.</summary>
    public TimeSpan CaseBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The order of the brief's table.</summary>
    public static readonly IReadOnlyList<TransportKind> DefaultBackends =
        [TransportKind.SharedMemory, TransportKind.Socket, TransportKind.MessageQueue, TransportKind.Fifo, TransportKind.Pipe];
}
