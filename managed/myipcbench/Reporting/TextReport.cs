using System.Globalization;
using System.Text;
using MyIpcBench.Model;

namespace MyIpcBench.Reporting;

/// <summary>
/// The human-readable report, shaped like the brief's sample: a header, one fixed-width table per message size and
/// the recommendations. Plain text only (no terminal features), so it reads the same when redirected to a file.
/// </summary>
internal static class TextReport
{
    private const string Missing = "-";
    private const string ColumnGap = "  ";

    private static readonly string[] Headers =
        ["Mechanism", "Path", "Subs", "Throughput", "Msgs/s", "Lat avg", "Lat p50", "Lat p99", "Lat p99.9", "RTT/2 p50", "Hub/raw"];

    /// <summary>Which columns are numbers (right-aligned).</summary>
    private static readonly bool[] RightAligned = [false, false, true, true, true, true, true, true, true, true, true];

    private static readonly char[] LineBreaks = ['\r', '\n'];

    private static readonly string[] AllocationHeaders = ["Mechanism", "Size", "Subs", "Gen0 GCs", "Bytes/msg"];

    private static readonly bool[] AllocationRightAligned = [false, true, true, true, true];

    public static void Write(TextWriter writer, BenchRunInfo run, IReadOnlyList<CaseResult> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(results);

        List<CaseResult> ordered = ReportFormat.Ordered(results);
        writer.WriteLine(Title(ordered));
        writer.WriteLine();
        writer.WriteLine($"CPU:      {run.Machine.CpuLine}");
        writer.WriteLine($"System:   {run.Machine.SystemLine}");
        writer.WriteLine($"Runtime:  {run.Machine.Runtime} ({run.Machine.Architecture})");
        writer.WriteLine(
            $"Run:      {run.StartedAt.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture)}, took {ReportFormat.Duration(run.Duration)}");

        foreach (IGrouping<int, CaseResult> size in ordered.GroupBy(r => r.MessageSize).OrderBy(g => g.Key))
        {
            writer.WriteLine();
            writer.WriteLine($"{ReportFormat.Size(size.Key)} messages ({size.Key.ToString(CultureInfo.InvariantCulture)} bytes)");
            WriteTable(writer, Headers, RightAligned, [.. size.Select(Row)]);
        }
        if (ordered.Count == 0)
        {
            writer.WriteLine();
            writer.WriteLine("No cases were run.");
        }

        WriteAllocations(writer, ordered);

        writer.WriteLine();
        writer.WriteLine(BenchRunInfo.LatencyMethod);
        writer.WriteLine("Throughput: payload bytes delivered per second over all subscribers (MB = 10^6 bytes); " +
            "Hub/raw: hub throughput over the raw mechanism's.");
        writer.WriteLine();
        writer.WriteLine("Recommendation:");
        foreach (string line in Recommendations(ordered))
        {
            writer.WriteLine("  " + line);
        }
    }

    /// <summary>The brief's header, with the run's counts and sizes: <c>IPC Mechanism Benchmark (1M messages, 1KB each)</c>.</summary>
    internal static string Title(IReadOnlyList<CaseResult> results)
    {
        var parts = new List<string>();
        long[] messages = [.. results.Where(r => r.Messages > 0).Select(r => r.Messages).Distinct().Order()];
        long[] roundTrips = [.. results.Where(r => r.LatencySamples > 0).Select(r => r.LatencySamples).Distinct().Order()];
        if (messages.Length > 0)
        {
            parts.Add((messages.Length > 1 ? "up to " : string.Empty) + ReportFormat.Count(messages[^1]) + " messages");
        }
        else if (roundTrips.Length > 0)
        {
            parts.Add((roundTrips.Length > 1 ? "up to " : string.Empty) + ReportFormat.Count(roundTrips[^1]) + " round trips");
        }
        int[] sizes = [.. results.Select(r => r.MessageSize).Distinct().Order()];
        if (sizes.Length == 1)
        {
            parts.Add(ReportFormat.Size(sizes[0]) + " each");
        }
        else if (sizes.Length > 1)
        {
            parts.Add(string.Join(", ", sizes.Select(ReportFormat.Size)) + " each");
        }
        return parts.Count == 0 ? "IPC Mechanism Benchmark" : $"IPC Mechanism Benchmark ({string.Join(", ", parts)})";
    }

    /// <summary>The recommendation lines: two computed from the figures, three from what the mechanisms are.</summary>
    internal static List<string> Recommendations(IReadOnlyList<CaseResult> results)
    {
        var lines = new List<string>();
        List<CaseResult> ok = [.. results.Where(r => r.Error is null)];

        List<CaseResult> withThroughput = HubElseRaw(ok.Where(r => ReportFormat.Has(r.MbPerS)));
        if (withThroughput.Count > 0)
        {
            int largest = withThroughput.Max(r => r.MessageSize);
            List<CaseResult> atLargest = [.. withThroughput.Where(r => r.MessageSize == largest)];
            // MB/s is summed over the subscribers, so compare transports at one fan-out (the smallest measured).
            int fanOut = atLargest.Min(r => r.Subscribers);
            CaseResult best = atLargest.Where(r => r.Subscribers == fanOut).MaxBy(r => r.MbPerS!.Value)!;
            lines.Add($"High throughput: Use {ReportFormat.Plural(best.Transport)} " +
                $"({Detail(best, ReportFormat.Throughput(best.MbPerS!.Value))})");
        }

        List<CaseResult> withLatency = HubElseRaw(ok.Where(r => ReportFormat.Has(r.LatP50Us)));
        if (withLatency.Count > 0)
        {
            CaseResult best = withLatency.MinBy(r => r.LatP50Us!.Value)!;
            lines.Add($"Lowest latency: Use {ReportFormat.Plural(best.Transport)} " +
                $"({Detail(best, "p50 " + ReportFormat.Latency(best.LatP50Us!.Value))})");
        }

        lines.Add("Simplicity: Use UNIX sockets");
        lines.Add("Message boundaries: Use POSIX message queues");
        lines.Add("Passing descriptors: Use UNIX sockets (SCM_RIGHTS)");
        return lines;
    }

    private static List<CaseResult> HubElseRaw(IEnumerable<CaseResult> rows)
    {
        List<CaseResult> all = [.. rows];
        List<CaseResult> hub = [.. all.Where(ReportFormat.IsHub)];
        return hub.Count > 0 ? hub : all;
    }

    /// <summary><c>futex; 2.1 GB/sec through the hub, 1KB messages</c>.</summary>
    private static string Detail(CaseResult r, string figure)
    {
        string path = ReportFormat.IsHub(r) ? "through the hub" : "raw";
        string variant = string.IsNullOrEmpty(r.Variant) ? string.Empty : r.Variant + "; ";
        return $"{variant}{figure} {path}, {ReportFormat.Size(r.MessageSize)} messages";
    }

    private static string[] Row(CaseResult r)
    {
        string mechanism = ReportFormat.Mechanism(r);
        string subs = r.Subscribers.ToString(CultureInfo.InvariantCulture);
        if (r.Error is not null)
        {
            // The error takes the rest of the line (one line, however the error was worded).
            return [mechanism, r.Path, subs, "failed: " + OneLine(r.Error)];
        }
        return
        [
            mechanism,
            r.Path,
            subs,
            Figure(r.MbPerS, ReportFormat.Throughput),
            Figure(r.MsgsPerS, ReportFormat.Rate),
            Figure(r.LatAvgUs, ReportFormat.Latency),
            Figure(r.LatP50Us, ReportFormat.Latency),
            Figure(r.LatP99Us, ReportFormat.Latency),
            Figure(r.LatP999Us, ReportFormat.Latency),
            Figure(r.RttHalfP50Us, ReportFormat.Latency),
            ReportFormat.IsHub(r) ? Figure(r.HubOverRaw, ReportFormat.Ratio) : string.Empty,
        ];
    }

    private static void WriteAllocations(TextWriter writer, List<CaseResult> ordered)
    {
        // By size like the tables (OrderBy is stable: the report order within a size).
        List<CaseResult> rows =
        [
            .. ordered
                .Where(r => r.Error is null && ReportFormat.IsHub(r)
                    && (r.HubGen0Collections is not null || ReportFormat.Has(r.HubAllocatedBytesPerMessage)))
                .OrderBy(r => r.MessageSize),
        ];
        if (rows.Count == 0)
        {
            return;
        }
        writer.WriteLine();
        writer.WriteLine("Hub allocations (hub process, during the throughput runs):");
        List<string[]> table =
        [
            .. rows.Select(r => new[]
            {
                ReportFormat.Mechanism(r),
                ReportFormat.Size(r.MessageSize),
                r.Subscribers.ToString(CultureInfo.InvariantCulture),
                r.HubGen0Collections?.ToString(CultureInfo.InvariantCulture) ?? Missing,
                Figure(r.HubAllocatedBytesPerMessage, b => b.ToString("0.00", CultureInfo.InvariantCulture)),
            }),
        ];
        WriteTable(writer, AllocationHeaders, AllocationRightAligned, table);
    }

    /// <summary>
    /// Columns as wide as their widest cell; a row shorter than the header (a failed case) ends with its last cell
    /// written as it is, across the remaining columns.
    /// </summary>
    private static void WriteTable(TextWriter writer, string[] headers, bool[] rightAligned, List<string[]> rows)
    {
        int[] widths = [.. headers.Select(h => h.Length)];
        foreach (string[] row in rows)
        {
            // A short row's last cell spans the rest, so it does not widen its column.
            int fixedCells = row.Length == headers.Length ? row.Length : row.Length - 1;
            for (int i = 0; i < fixedCells; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        writer.WriteLine(Line(headers, widths, rightAligned));
        writer.WriteLine(new string('-', widths.Sum() + (ColumnGap.Length * (widths.Length - 1))));
        foreach (string[] row in rows)
        {
            writer.WriteLine(Line(row, widths, rightAligned));
        }
    }

    private static string Line(string[] cells, int[] widths, bool[] rightAligned)
    {
        var line = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append(ColumnGap);
            }
            bool spansRest = i == cells.Length - 1 && cells.Length < widths.Length;
            line.Append(spansRest ? cells[i] : rightAligned[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }
        return line.ToString().TrimEnd();
    }

    private static string Figure(double? value, Func<double, string> format) =>
        ReportFormat.Has(value) ? format(value!.Value) : Missing;

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(LineBreaks, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
