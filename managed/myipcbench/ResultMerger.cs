using MyIpcBench.Model;
using MyIpcBench.Running;

namespace MyIpcBench;

/// <summary>
/// Joins the runs of a case into rows: one per fan-out of the throughput runs, the (1→1) latency run joined
/// to the first of them; each 1→1 hub row gets its raw row's throughput ratio (hub / raw).
/// </summary>
internal static class ResultMerger
{
    public static List<CaseResult> Merge(IReadOnlyList<CaseMeasurement> measurements)
    {
        var rows = new List<CaseResult>();
        foreach (var group in measurements.GroupBy(m => (m.Case.Transport, m.Case.Variant, m.Case.Path, m.Case.MessageSize)))
        {
            CaseMeasurement? latency = group.FirstOrDefault(m => m.Case.Mode == BenchMode.Latency);
            var throughputs = group.Where(m => m.Case.Mode == BenchMode.Throughput).ToList();
            if (throughputs.Count == 0)
            {
                rows.Add(Row(group.First().Case, null, latency));
                continue;
            }
            for (int i = 0; i < throughputs.Count; i++)
            {
                rows.Add(Row(throughputs[i].Case, throughputs[i], i == 0 ? latency : null));
            }
        }
        for (int i = 0; i < rows.Count; i++)
        {
            CaseResult row = rows[i];
            if (row.Path != "hub" || row.Subscribers != 1 || row.MbPerS is null)
            {
                continue;
            }
            // The raw row of the same variant; the raw stream mechanisms have one row (no spin) for every hub variant.
            CaseResult? raw = rows.FirstOrDefault(r => r.Path == "raw" && r.Transport == row.Transport && r.Variant == row.Variant
                    && r.MessageSize == row.MessageSize && r.MbPerS is > 0)
                ?? rows.FirstOrDefault(r => r.Path == "raw" && r.Transport == row.Transport && r.Transport != "shm" && r.Variant.Length == 0
                    && r.MessageSize == row.MessageSize && r.MbPerS is > 0);
            if (raw is not null)
            {
                rows[i] = row with { HubOverRaw = row.MbPerS / raw.MbPerS };
            }
        }
        return rows;
    }

    private static CaseResult Row(BenchCase c, CaseMeasurement? throughput, CaseMeasurement? latency)
    {
        IEnumerable<string> errors = new[] { throughput, latency }.Where(m => m?.Error is not null)
            .Select(m => $"{m!.Case.Mode.ToString().ToLowerInvariant()}: {m.Error}");
        string error = string.Join("; ", errors);
        return new CaseResult
        {
            Transport = c.TransportName,
            TransportTitle = TransportNames.Long(c.Transport),
            Variant = c.Variant,
            Path = c.Path == BenchPath.Hub ? "hub" : "raw",
            MessageSize = c.MessageSize,
            Subscribers = throughput?.Case.Subscribers ?? 1,
            Messages = throughput?.Case.Messages ?? 0,
            MsgsPerS = throughput?.MsgsPerS,
            MbPerS = throughput?.MbPerS,
            HubGen0Collections = throughput?.HubGen0Collections,
            HubAllocatedBytesPerMessage = throughput?.HubAllocatedBytesPerMessage,
            LatAvgUs = latency?.OneWay?.AvgNs / 1000.0,
            LatP50Us = latency?.OneWay?.P50Ns / 1000.0,
            LatP99Us = latency?.OneWay?.P99Ns / 1000.0,
            LatP999Us = latency?.OneWay?.P999Ns / 1000.0,
            RttHalfAvgUs = latency?.RttHalf?.AvgNs / 1000.0,
            RttHalfP50Us = latency?.RttHalf?.P50Ns / 1000.0,
            RttHalfP99Us = latency?.RttHalf?.P99Ns / 1000.0,
            RttHalfP999Us = latency?.RttHalf?.P999Ns / 1000.0,
            LatencySamples = latency?.OneWay?.Count ?? 0,
            Error = error.Length > 0 ? error : null,
        };
    }
}
