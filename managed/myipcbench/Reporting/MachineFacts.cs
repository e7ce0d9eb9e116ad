using System.Globalization;
using System.Runtime.InteropServices;

namespace MyIpcBench.Reporting;

/// <summary>What the numbers were measured on; printed above the tables and in the chart's title.</summary>
/// <param name="CpuModel">/proc/cpuinfo "model name" (or "unknown").</param>
/// <param name="LogicalCores">Environment.ProcessorCount (what this process may use).</param>
/// <param name="Kernel">/proc/sys/kernel/osrelease.</param>
/// <param name="OperatingSystem">PRETTY_NAME from /etc/os-release.</param>
/// <param name="MemoryBytes">MemTotal, null when unknown.</param>
/// <param name="Runtime">RuntimeInformation.FrameworkDescription.</param>
/// <param name="Architecture">x64, arm64, ...</param>
/// <param name="Virtual">Whether the CPU flags carry "hypervisor"; null when the flags are not known (e.g. arm64).</param>
internal sealed record MachineFacts(
    string CpuModel,
    int LogicalCores,
    string Kernel,
    string OperatingSystem,
    long? MemoryBytes,
    string Runtime,
    string Architecture,
    bool? Virtual)
{
    public const string Unknown = "unknown";

    /// <summary>Reads this machine's facts; anything missing or unreadable becomes "unknown".</summary>
    public static MachineFacts Read() => Read("/");

    /// <summary>Reads the facts from the files under <paramref name="root"/> (a test points it at a fake tree).</summary>
    internal static MachineFacts Read(string root)
    {
        (string cpu, bool? isVirtual) = ParseCpuInfo(ReadText(root, "proc/cpuinfo"));
        string kernel = ReadText(root, "proc/sys/kernel/osrelease")?.Trim() is { Length: > 0 } k ? k : Unknown;
        return new MachineFacts(
            cpu,
            Environment.ProcessorCount,
            kernel,
            ParseOsRelease(ReadText(root, "etc/os-release")) ?? Unknown,
            ParseMemTotal(ReadText(root, "proc/meminfo")),
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            isVirtual);
    }

    /// <summary>e.g. <c>AMD EPYC, 2 logical cores, virtual machine</c>.</summary>
    public string CpuLine =>
        $"{CpuModel}, {LogicalCores.ToString(CultureInfo.InvariantCulture)} logical cores" +
        (Virtual == true ? ", virtual machine" : string.Empty);

    /// <summary>e.g. <c>Debian GNU/Linux 12 (bookworm), kernel 6.1.0, 23.5 GiB RAM</c>.</summary>
    public string SystemLine =>
        $"{OperatingSystem}, kernel {Kernel}" + (MemoryBytes is { } m ? $", {ReportFormat.Bytes(m)} RAM" : string.Empty);

    /// <summary>The model, cores and whether virtual, from /proc/cpuinfo's text.</summary>
    internal static (string Model, bool? Virtual) ParseCpuInfo(string? cpuinfo)
    {
        string? model = null;
        bool? isVirtual = null;
        foreach (string line in (cpuinfo ?? string.Empty).Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }
            string key = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (model is null && key == "model name" && value.Length > 0)
            {
                model = value;
            }
            else if (isVirtual is null && key == "flags")
            {
                isVirtual = value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("hypervisor");
            }
        }
        // Without a "flags" line (arm64) it stays unknown rather than claiming bare metal.
        return (model ?? Unknown, isVirtual);
    }

    /// <summary>PRETTY_NAME's value without its quotes.</summary>
    internal static string? ParseOsRelease(string? osRelease)
    {
        foreach (string line in (osRelease ?? string.Empty).Split('\n'))
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                string value = line["PRETTY_NAME=".Length..].Trim().Trim('"', '\'');
                return value.Length > 0 ? value : null;
            }
        }
        return null;
    }

    /// <summary>MemTotal (kB in the file, 1024-based) in bytes.</summary>
    internal static long? ParseMemTotal(string? meminfo)
    {
        foreach (string line in (meminfo ?? string.Empty).Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                continue;
            }
            string[] parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)
                ? kb * 1024
                : null;
        }
        return null;
    }

    private static string? ReadText(string root, string relative)
    {
        try
        {
            return File.ReadAllText(Path.Combine(root, relative));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
