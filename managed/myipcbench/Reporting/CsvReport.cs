using System.Globalization;
using System.Text.Json.Serialization.Metadata;
using MyIpcBench.Model;

namespace MyIpcBench.Reporting;

/// <summary>
/// The results as CSV (--csv): a header with the JSON report's snake_case keys, in the same order, then a row per
/// result. RFC 4180 quoting, invariant culture, an empty field for a missing figure.
/// </summary>
internal static class CsvReport
{
    private static readonly char[] NeedsQuotes = [',', '"', '\r', '\n'];

    public static void Write(TextWriter writer, IReadOnlyList<CaseResult> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(results);
        // The columns come from the JSON contract, so the two formats cannot drift apart.
        IReadOnlyList<JsonPropertyInfo> columns = JsonReport.Columns;
        writer.WriteLine(string.Join(',', columns.Select(c => Field(c.Name))));
        foreach (CaseResult row in ReportFormat.Ordered(results).Select(JsonReport.Sanitized))
        {
            writer.WriteLine(string.Join(',', columns.Select(c => Field(Text(c.Get!(row))))));
        }
    }

    private static string Text(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        // The shortest text that round-trips, as the JSON report writes it.
        double d => d.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    internal static string Field(string value) =>
        value.IndexOfAny(NeedsQuotes) < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
