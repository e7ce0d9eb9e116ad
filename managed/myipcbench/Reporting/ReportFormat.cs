using System.Globalization;
using MyIpcBench.Model;

namespace MyIpcBench.Reporting;

/// <summary>The units and ordering every report shares (always the invariant culture: output is read by scripts too).</summary>
internal static class ReportFormat
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The brief's table order; unknown transports sort after these.</summary>
    private static readonly string[] TransportOrder = ["shm", "socket", "mqueue", "fifo", "pipe"];

    /// <summary><c>2.1 GB/sec</c> from 1000 MB/s up, else <c>850 MB/sec</c> (10^6 bytes, as the brief).</summary>
    public static string Throughput(double mbPerS)
    {
        if (mbPerS >= 1000)
        {
            double gb = mbPerS / 1000;
            return gb.ToString(gb < 100 ? "0.0" : "0", Inv) + " GB/sec";
        }
        return ThreeDigits(mbPerS) + " MB/sec";
    }

    /// <summary><c>1.23 M/s</c>, <c>456 k/s</c>, <c>950 /s</c>.</summary>
    public static string Rate(double msgsPerS) => msgsPerS switch
    {
        >= 999_500 => ThreeDigits(msgsPerS / 1e6) + " M/s",
        >= 999.5 => ThreeDigits(msgsPerS / 1e3) + " k/s",
        _ => ThreeDigits(msgsPerS) + " /s",
    };

    /// <summary><c>0.5 us</c>, <c>12.3 us</c>, <c>345 us</c>, <c>1.2 ms</c>, <c>2.50 s</c>.</summary>
    public static string Latency(double us)
    {
        if (us >= 999_500)
        {
            return (us / 1e6).ToString("0.00", Inv) + " s";
        }
        if (us >= 999.5)
        {
            double ms = us / 1000;
            return ms.ToString(ms < 99.95 ? "0.0" : "0", Inv) + " ms";
        }
        string format = us switch
        {
            < 0.095 => "0.00",
            < 99.95 => "0.0",
            _ => "0",
        };
        return us.ToString(format, Inv) + " us";
    }

    /// <summary>Hub throughput over raw: <c>0.62×</c>.</summary>
    public static string Ratio(double ratio) => ratio.ToString("0.00", Inv) + "×";

    /// <summary>The brief's size spelling: <c>64B</c>, <c>1KB</c>, <c>1MB</c> (1024-based when exact, else bytes).</summary>
    public static string Size(int bytes)
    {
        const int KiB = 1024;
        const int MiB = 1024 * 1024;
        if (bytes >= MiB && bytes % MiB == 0)
        {
            return (bytes / MiB).ToString(Inv) + "MB";
        }
        if (bytes >= KiB && bytes % KiB == 0)
        {
            return (bytes / KiB).ToString(Inv) + "KB";
        }
        return bytes.ToString(Inv) + "B";
    }

    /// <summary><c>1M</c>, <c>1.5M</c>, <c>20k</c>, <c>500</c>.</summary>
    public static string Count(long n) => n switch
    {
        >= 1_000_000 => (n / 1e6).ToString("0.##", Inv) + "M",
        >= 1_000 => (n / 1e3).ToString("0.##", Inv) + "k",
        _ => n.ToString(Inv),
    };

    /// <summary>Memory in GiB (or MiB when small).</summary>
    public static string Bytes(long bytes)
    {
        const double GiB = 1024.0 * 1024 * 1024;
        return bytes >= GiB
            ? (bytes / GiB).ToString("0.0", Inv) + " GiB"
            : (bytes / (1024.0 * 1024)).ToString("0", Inv) + " MiB";
    }

    /// <summary><c>45s</c>, <c>3m 12s</c>, <c>1h 02m</c>.</summary>
    public static string Duration(TimeSpan d)
    {
        if (d.TotalHours >= 1)
        {
            return ((int)d.TotalHours).ToString(Inv) + "h " + d.Minutes.ToString("00", Inv) + "m";
        }
        if (d.TotalMinutes >= 1)
        {
            return ((int)d.TotalMinutes).ToString(Inv) + "m " + d.Seconds.ToString("00", Inv) + "s";
        }
        return d.TotalSeconds.ToString(d.TotalSeconds < 10 ? "0.0" : "0", Inv) + "s";
    }

    /// <summary><c>Shared Memory (futex)</c>, <c>UNIX Socket</c>.</summary>
    public static string Mechanism(CaseResult r) =>
        string.IsNullOrEmpty(r.Variant) ? r.TransportTitle : $"{r.TransportTitle} ({r.Variant})";

    /// <summary>What the recommendation lines call a transport.</summary>
    public static string Plural(string transport) => transport switch
    {
        "shm" => "shared memory",
        "socket" => "UNIX sockets",
        "mqueue" => "POSIX message queues",
        "fifo" => "named pipes (FIFOs)",
        "pipe" => "anonymous pipes",
        _ => transport,
    };

    /// <summary>A figure the reports can show: set and finite (a division by a zero duration must not print "∞").</summary>
    public static bool Has(double? value) => value is { } v && double.IsFinite(v);

    /// <summary>
    /// The brief's order: shm, socket, mqueue, fifo, pipe; within a transport the variants as they came, hub before
    /// raw, then by fan-out. Stable, so equal rows keep the caller's order.
    /// </summary>
    public static List<CaseResult> Ordered(IEnumerable<CaseResult> results)
    {
        List<CaseResult> list = [.. results];
        var variantRank = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (CaseResult r in list)
        {
            variantRank.TryAdd(r.Variant ?? string.Empty, variantRank.Count);
        }
        return [.. list
            .OrderBy(r => TransportRank(r.Transport))
            .ThenBy(r => r.Transport, StringComparer.Ordinal)
            .ThenBy(r => variantRank[r.Variant ?? string.Empty])
            .ThenBy(PathRank)
            .ThenBy(r => r.Subscribers)];
    }

    public static int TransportRank(string transport)
    {
        int i = Array.IndexOf(TransportOrder, transport);
        return i < 0 ? TransportOrder.Length : i;
    }

    public static bool IsHub(CaseResult r) => string.Equals(r.Path, "hub", StringComparison.OrdinalIgnoreCase);

    public static bool IsRaw(CaseResult r) => string.Equals(r.Path, "raw", StringComparison.OrdinalIgnoreCase);

    private static int PathRank(CaseResult r) => IsHub(r) ? 0 : IsRaw(r) ? 1 : 2;

    /// <summary>Three significant digits for values from 1 up (2.31, 23.1, 231, 2310), two decimals below.</summary>
    private static string ThreeDigits(double v) => v switch
    {
        < 9.995 => v.ToString("0.00", Inv),
        < 99.95 => v.ToString("0.0", Inv),
        _ => v.ToString("0", Inv),
    };
}
