using System.Globalization;
using System.Text.RegularExpressions;

namespace MyIpcBench.Running;

/// <summary>The hub's <c>gc: gen0=N gen1=N gen2=N allocated=N loop_allocated=N</c> line, printed on SIGUSR1.</summary>
internal readonly partial record struct GcCounters(int Gen0, long Allocated, long LoopAllocated)
{
    /// <summary>Every such line of the hub's stdout so far, in order.</summary>
    public static List<GcCounters> ReadAll(string stdoutPath)
    {
        var all = new List<GcCounters>();
        if (!File.Exists(stdoutPath))
        {
            return all;
        }
        using var stream = new FileStream(stdoutPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            Match m = Line().Match(line);
            if (m.Success)
            {
                all.Add(new GcCounters(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                    long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)));
            }
        }
        return all;
    }

    [GeneratedRegex(@"^gc: gen0=(\d+) gen1=\d+ gen2=\d+ allocated=(\d+) loop_allocated=(\d+)$")]
    private static partial Regex Line();
}
