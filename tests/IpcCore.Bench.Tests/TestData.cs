using System.Globalization;
using MyIpcBench;
using MyIpcBench.Model;
using MyIpcBench.Reporting;

namespace IpcCore.Bench.Tests;

/// <summary>Result rows with realistic figures, shared by the report tests.</summary>
internal static class TestData
{
    public const string CommaError = "mq_open: bad size, \"msgsize_max\" is 8192";

    public static readonly MachineFacts Machine = new(
        "Test CPU 9000", 8, "6.1.0-test", "Test Linux 1.0", 16L * 1024 * 1024 * 1024, ".NET 10.0.0", "x64", true);

    public static BenchRunInfo Run() =>
        new(Machine, new BenchSettings(), new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), TimeSpan.FromSeconds(95));

    public static CaseResult Row(string transport, string title, string path, double? mbPerS, double? p50,
        string variant = "", int size = 1024, int subscribers = 1, string? error = null) => new()
    {
        Transport = transport,
        TransportTitle = title,
        Variant = variant,
        Path = path,
        MessageSize = size,
        Subscribers = subscribers,
        Messages = 1_000_000,
        MbPerS = mbPerS,
        MsgsPerS = mbPerS * 1e6 / size,
        LatAvgUs = p50 * 1.1,
        LatP50Us = p50,
        LatP99Us = p50 * 3,
        LatP999Us = p50 * 6,
        RttHalfAvgUs = p50 * 1.2,
        RttHalfP50Us = p50 * 1.1,
        RttHalfP99Us = p50 * 3.1,
        RttHalfP999Us = p50 * 6.2,
        LatencySamples = p50 is null ? 0 : 20_000,
        HubOverRaw = path == "hub" && mbPerS is not null ? 0.62 : null,
        HubGen0Collections = path == "hub" ? 0 : null,
        HubAllocatedBytesPerMessage = path == "hub" ? 0.5 : null,
        Error = error,
    };

    /// <summary>All five transports through the hub and raw at 1 KB, in scrambled order, one failed row.</summary>
    public static List<CaseResult> Results() =>
    [
        Row("pipe", "Anonymous Pipe", "raw", 380, 4.1),
        Row("socket", "UNIX Socket", "raw", 850, 3.2),
        Row("shm", "Shared Memory", "hub", 2100.5, 0.5, variant: "futex"),
        Row("socket", "UNIX Socket", "hub", 520, 7.8),
        Row("mqueue", "POSIX MQueue", "hub", null, null, error: CommaError),
        Row("mqueue", "POSIX MQueue", "raw", 420, 3.9),
        Row("fifo", "Named Pipe (FIFO)", "hub", 210, 9.9),
        Row("fifo", "Named Pipe (FIFO)", "raw", 350, 4.4),
        Row("pipe", "Anonymous Pipe", "hub", 230, 9.6),
        Row("shm", "Shared Memory", "raw", 3400, 0.3, variant: "futex"),
        Row("shm", "Shared Memory", "hub", 1700, null, variant: "semaphore"),
    ];

    /// <summary>A culture with a decimal comma (de-DE-like; real cultures are unavailable under invariant globalization).</summary>
    public static CultureInfo DecimalCommaCulture()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.PercentDecimalSeparator = ",";
        culture.NumberFormat.CurrencyDecimalSeparator = ",";
        return culture;
    }

    /// <summary>Runs <paramref name="action"/> with <see cref="DecimalCommaCulture"/> as the current culture.</summary>
    public static T WithDecimalComma<T>(Func<T> action)
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = DecimalCommaCulture();
        try
        {
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}

/// <summary>A directory of its own for one test, deleted with it.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ipcbench-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}
