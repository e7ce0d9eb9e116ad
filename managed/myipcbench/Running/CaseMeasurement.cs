using MyIpcBench.Model;

namespace MyIpcBench.Running;

/// <summary>What one run of a case gave: throughput figures, or latency figures, or an error.</summary>
internal sealed record CaseMeasurement(BenchCase Case)
{
    public double? MsgsPerS { get; init; }

    public double? MbPerS { get; init; }

    public LatencySummary? OneWay { get; init; }

    public LatencySummary? RttHalf { get; init; }

    public int? HubGen0Collections { get; init; }

    public double? HubAllocatedBytesPerMessage { get; init; }

    public string? Error { get; init; }

    /// <summary>For the progress line: "2.31 GB/s", "p50 3.1 us", "failed: ...".</summary>
    public string Summary => Error is not null ? $"failed: {Error}"
        : MbPerS is { } mb ? (mb >= 1000 ? $"{mb / 1000:0.00} GB/s" : $"{mb:0} MB/s") + $" ({MsgsPerS / 1e6:0.00} M msg/s)"
        : OneWay is { } ow ? $"one-way p50 {ow.P50Ns / 1000.0:0.0} us, p99 {ow.P99Ns / 1000.0:0.0} us"
        : "no figures";
}
