namespace MyIpcBench.Model;

/// <summary>
/// One row of the report: a transport on a path at a message size and fan-out, with the throughput run's and
/// the latency run's figures (null where that mode was not run or the case failed).
/// </summary>
public sealed record CaseResult
{
    /// <summary>socket, fifo, mqueue, shm, pipe.</summary>
    public required string Transport { get; init; }

    /// <summary>The table's name (Shared Memory, UNIX Socket, ...).</summary>
    public required string TransportTitle { get; init; }

    /// <summary>shm: futex, semaphore, futex+spin50us; empty otherwise.</summary>
    public string Variant { get; init; } = string.Empty;

    /// <summary>hub or raw.</summary>
    public required string Path { get; init; }

    public required int MessageSize { get; init; }

    public required int Subscribers { get; init; }

    /// <summary>Messages sent in the throughput run (round trips in the latency run: <see cref="LatencySamples"/>).</summary>
    public long Messages { get; init; }

    /// <summary>Messages delivered per second, summed over the subscribers.</summary>
    public double? MsgsPerS { get; init; }

    /// <summary>Payload bytes delivered per second over all subscribers, in 10^6 bytes.</summary>
    public double? MbPerS { get; init; }

    /// <summary>One-way latency (µs): receive time minus the CLOCK_MONOTONIC stamp in the payload, one message in flight.</summary>
    public double? LatAvgUs { get; init; }

    public double? LatP50Us { get; init; }

    public double? LatP99Us { get; init; }

    public double? LatP999Us { get; init; }

    /// <summary>Ping-pong round trip / 2 (µs).</summary>
    public double? RttHalfAvgUs { get; init; }

    public double? RttHalfP50Us { get; init; }

    public double? RttHalfP99Us { get; init; }

    public double? RttHalfP999Us { get; init; }

    /// <summary>Round trips measured.</summary>
    public long LatencySamples { get; init; }

    /// <summary>Hub rows: this row's throughput over the raw row's of the same transport, size and variant.</summary>
    public double? HubOverRaw { get; init; }

    /// <summary>Hub rows: gen-0 collections in the hub process during the throughput run.</summary>
    public int? HubGen0Collections { get; init; }

    /// <summary>Hub rows: managed bytes the hub allocated per message during the throughput run.</summary>
    public double? HubAllocatedBytesPerMessage { get; init; }

    /// <summary>Null, or why the case failed.</summary>
    public string? Error { get; init; }
}
