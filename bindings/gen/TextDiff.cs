using System.Globalization;
using System.Text;

namespace IpcCore.BindGen;

/// <summary>A short summary of where two texts differ: the first differing region, line numbered.</summary>
public static class TextDiff
{
    /// <summary>
    /// Null when equal; else the first block of lines that differs between <paramref name="expected"/>
    /// (shown with <c>-</c>) and <paramref name="actual"/> (shown with <c>+</c>), at most
    /// <paramref name="maxLines"/> lines of each.
    /// </summary>
    public static string? Describe(string expected, string actual, string expectedLabel, string actualLabel, int maxLines = 12)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        if (string.Equals(expected, actual, StringComparison.Ordinal))
        {
            return null;
        }

        string[] a = expected.Split('\n');
        string[] b = actual.Split('\n');
        int prefix = 0;
        while (prefix < a.Length && prefix < b.Length && string.Equals(a[prefix], b[prefix], StringComparison.Ordinal))
        {
            prefix++;
        }

        int suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix
            && string.Equals(a[a.Length - 1 - suffix], b[b.Length - 1 - suffix], StringComparison.Ordinal))
        {
            suffix++;
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"first difference at line {prefix + 1} (- {expectedLabel}, + {actualLabel}):\n");
        AppendLines(text, '-', a, prefix, a.Length - suffix, maxLines);
        AppendLines(text, '+', b, prefix, b.Length - suffix, maxLines);
        if (prefix == a.Length - suffix && prefix == b.Length - suffix)
        {
            text.Append("  (the texts differ only in line endings or encoding)\n");
        }

        return text.ToString();
    }

    private static void AppendLines(StringBuilder text, char marker, string[] lines, int from, int to, int maxLines)
    {
        int shown = Math.Min(to - from, maxLines);
        for (int i = from; i < from + shown; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{marker}{i + 1,5}: {lines[i].TrimEnd('\r')}\n");
        }

        if (to - from > shown)
        {
            text.Append(CultureInfo.InvariantCulture, $"{marker}  ... {to - from - shown} more line(s)\n");
        }
    }
}
