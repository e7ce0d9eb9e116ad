using System.Text.Json.Serialization;

namespace MyIpcBench.Model;

/// <summary>What a worker process measured, written as JSON to its --report file.</summary>
public sealed record WorkerReport
{
    /// <summary>send, recv, pub, sub, echo.</summary>
    public required string Role { get; init; }

    /// <summary>Messages sent (senders) or received and verified (receivers).</summary>
    public long Messages { get; init; }

    /// <summary>Warm-up messages (round trips) sent or received before the measured ones.</summary>
    public long WarmupMessages { get; init; }

    /// <summary>Payload bytes sent or received.</summary>
    public long Bytes { get; init; }

    /// <summary>CLOCK_MONOTONIC ns: a sender's first measured send; a receiver's receipt of the first measured message.</summary>
    public long FirstNs { get; init; }

    /// <summary>CLOCK_MONOTONIC ns: a sender's last send returned; a receiver's last receive.</summary>
    public long LastNs { get; init; }

    /// <summary>One-way latency (receive time minus the stamp), latency mode.</summary>
    public LatencySummary? OneWay { get; init; }

    /// <summary>Round trip / 2, latency mode (the pinging side).</summary>
    public LatencySummary? RttHalf { get; init; }

    /// <summary>Gen-0 collections during the measured part.</summary>
    public int Gen0Collections { get; init; }

    /// <summary>Managed bytes allocated during the measured part.</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Null, or why the worker failed (it also exits non-zero).</summary>
    public string? Error { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkerReport))]
internal sealed partial class WorkerJson : JsonSerializerContext;
