using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using MyIpcBench.Model;

namespace MyIpcBench.Reporting;

/// <summary>
/// The results as one JSON array (--json): an object per row, snake_case keys, every key in every object (null
/// where a figure is missing) so consumers can rely on the schema.
/// </summary>
internal static class JsonReport
{
    public static void Write(TextWriter writer, IReadOnlyList<CaseResult> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(results);
        CaseResult[] rows = [.. ReportFormat.Ordered(results).Select(Sanitized)];
        writer.WriteLine(JsonSerializer.Serialize(rows, ReportJson.Default.CaseResultArray));
    }

    /// <summary>The columns, in order, with their snake_case names (the CSV writes the same).</summary>
    internal static IReadOnlyList<JsonPropertyInfo> Columns { get; } = [.. ReportJson.Default.CaseResult.Properties];

    /// <summary>JSON has no NaN or infinity: a figure that is not a number becomes null (missing).</summary>
    internal static CaseResult Sanitized(CaseResult r) => r with
    {
        MsgsPerS = Finite(r.MsgsPerS),
        MbPerS = Finite(r.MbPerS),
        LatAvgUs = Finite(r.LatAvgUs),
        LatP50Us = Finite(r.LatP50Us),
        LatP99Us = Finite(r.LatP99Us),
        LatP999Us = Finite(r.LatP999Us),
        RttHalfAvgUs = Finite(r.RttHalfAvgUs),
        RttHalfP50Us = Finite(r.RttHalfP50Us),
        RttHalfP99Us = Finite(r.RttHalfP99Us),
        RttHalfP999Us = Finite(r.RttHalfP999Us),
        HubOverRaw = Finite(r.HubOverRaw),
        HubAllocatedBytesPerMessage = Finite(r.HubAllocatedBytesPerMessage),
    };

    private static double? Finite(double? value) => ReportFormat.Has(value) ? value : null;
}

/// <summary>Source-generated (no reflection, trim-safe); nulls are written, not skipped.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CaseResult[]))]
internal sealed partial class ReportJson : JsonSerializerContext;
