using System.Globalization;

namespace IpcCore.Cli;

/// <summary>Byte counts on the command line (<c>100MiB</c>, <c>8M</c>, <c>4096</c>) and in the tools' output.</summary>
public static class ByteSizes
{
    private static readonly (string Suffix, long Factor)[] s_suffixes =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30),
        ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30),
        ("B", 1),
    ];

    /// <summary>Parses a whole number of bytes, optionally with K, KiB, M, MiB, G, GiB (powers of 1024) or B.</summary>
    public static bool TryParse(string text, out long value)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = 0;
        string s = text.Trim();
        long multiplier = 1;
        foreach ((string suffix, long factor) in s_suffixes)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = factor;
                s = s[..^suffix.Length].TrimEnd();
                break;
            }
        }
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            return false;
        }
        try
        {
            value = checked(number * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>"100 MiB", "1.5 KiB", "12 bytes".</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.##} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.##} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.##} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}
