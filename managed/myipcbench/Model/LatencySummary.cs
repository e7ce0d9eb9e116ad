namespace MyIpcBench.Model;

/// <summary>Percentiles of a set of latency samples, in nanoseconds.</summary>
public sealed record LatencySummary(long Count, double AvgNs, long MinNs, long P50Ns, long P99Ns, long P999Ns, long MaxNs)
{
    /// <summary>Summarises <paramref name="samples"/> (sorted in place).</summary>
    public static LatencySummary? Of(Span<long> samples)
    {
        if (samples.IsEmpty)
        {
            return null;
        }
        samples.Sort();
        double sum = 0;
        foreach (long s in samples)
        {
            sum += s;
        }
        return new LatencySummary(samples.Length, sum / samples.Length, samples[0], Percentile(samples, 0.50),
            Percentile(samples, 0.99), Percentile(samples, 0.999), samples[^1]);
    }

    /// <summary>The nearest-rank percentile of sorted samples.</summary>
    public static long Percentile(ReadOnlySpan<long> sorted, double fraction)
    {
        int rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>Collects latency samples into a buffer allocated up front, so recording allocates nothing.</summary>
public sealed class LatencyRecorder(int capacity)
{
    private readonly long[] _samples = new long[Math.Max(capacity, 1)];
    private int _count;

    /// <summary>Samples recorded so far (at most the capacity; later ones are dropped).</summary>
    public int Count => _count;

    public void Record(long nanoseconds)
    {
        if (_count < _samples.Length)
        {
            _samples[_count++] = nanoseconds;
        }
    }

    public LatencySummary? Summarize() => LatencySummary.Of(_samples.AsSpan(0, _count));
}
