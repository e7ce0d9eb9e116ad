using System.Globalization;
using System.Text;

namespace IpcCore.BindGen;

/// <summary>
/// The bytes of a source file, addressed by clang's byte offsets: line numbers for messages and the
/// comments around declarations (which clang's JSON dump does not carry for plain <c>/* */</c> comments).
/// </summary>
internal sealed class SourceText
{
    private readonly byte[] _bytes;
    private readonly List<int> _lineStarts = [0];

    internal SourceText(byte[] bytes, string displayName)
    {
        _bytes = bytes;
        DisplayName = displayName;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                _lineStarts.Add(i + 1);
            }
        }
    }

    /// <summary>The name used in messages and in the generated banner (repository-relative when known).</summary>
    internal string DisplayName { get; }

    internal int Length => _bytes.Length;

    internal int LineOf(int offset)
    {
        int index = _lineStarts.BinarySearch(offset);
        return index >= 0 ? index + 1 : ~index;
    }

    internal string Where(int offset) =>
        string.Create(CultureInfo.InvariantCulture, $"{DisplayName}:{LineOf(offset)}");

    internal string Slice(int start, int end)
    {
        start = Math.Clamp(start, 0, _bytes.Length);
        end = Math.Clamp(end, start, _bytes.Length);
        return Encoding.UTF8.GetString(_bytes, start, end - start);
    }

    /// <summary>
    /// The comment that ends on the line right above the line of <paramref name="offset"/> and starts a
    /// line of its own (<c>/* */</c>, <c>/** */</c>, or a run of <c>//</c> lines), cleaned of its markers.
    /// A blank line between comment and declaration detaches it.
    /// </summary>
    internal IReadOnlyList<string>? LeadingComment(int offset)
    {
        if (offset <= 0 || offset > _bytes.Length)
        {
            return null;
        }

        int lineStart = _lineStarts[LineOf(offset) - 1];
        if (lineStart == 0)
        {
            return null;
        }

        int previousLineStart = _lineStarts[LineOf(lineStart - 1) - 1];
        string previousLine = Slice(previousLineStart, lineStart - 1).TrimEnd();
        if (previousLine.EndsWith("*/", StringComparison.Ordinal))
        {
            int close = previousLineStart + Encoding.UTF8.GetByteCount(previousLine) - 2;
            int open = LastIndexOf("/*"u8, close);
            if (open < 0 || !OnlyWhitespaceBefore(open))
            {
                return null;
            }

            return Clean(Slice(open, close + 2));
        }

        if (previousLine.TrimStart().StartsWith("//", StringComparison.Ordinal))
        {
            int first = previousLineStart;
            while (first > 0)
            {
                int start = _lineStarts[LineOf(first - 1) - 1];
                if (!Slice(start, first - 1).TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    break;
                }

                first = start;
            }

            return Clean(Slice(first, lineStart - 1));
        }

        return null;
    }

    /// <summary>The comment after a member on its own line: <c>NAME = 1, /* text */</c> or <c>int32_t x; // text</c>.</summary>
    internal IReadOnlyList<string>? TrailingComment(int endOffset)
    {
        int p = SkipBlanks(endOffset);
        if (p < _bytes.Length && (_bytes[p] == (byte)',' || _bytes[p] == (byte)';'))
        {
            p = SkipBlanks(p + 1);
        }

        if (p + 1 >= _bytes.Length || _bytes[p] != (byte)'/')
        {
            return null;
        }

        if (_bytes[p + 1] == (byte)'*')
        {
            int close = IndexOf("*/"u8, p + 2);
            return close < 0 ? null : Clean(Slice(p, close + 2));
        }

        if (_bytes[p + 1] == (byte)'/')
        {
            int lineEnd = IndexOf("\n"u8, p);
            return Clean(Slice(p, lineEnd < 0 ? _bytes.Length : lineEnd));
        }

        return null;
    }

    private int SkipBlanks(int p)
    {
        while (p < _bytes.Length && (_bytes[p] == (byte)' ' || _bytes[p] == (byte)'\t'))
        {
            p++;
        }

        return p;
    }

    private bool OnlyWhitespaceBefore(int offset)
    {
        int lineStart = _lineStarts[LineOf(offset) - 1];
        return string.IsNullOrWhiteSpace(Slice(lineStart, offset));
    }

    private int LastIndexOf(ReadOnlySpan<byte> value, int before) =>
        _bytes.AsSpan(0, Math.Clamp(before, 0, _bytes.Length)).LastIndexOf(value);

    private int IndexOf(ReadOnlySpan<byte> value, int from)
    {
        int index = _bytes.AsSpan(from).IndexOf(value);
        return index < 0 ? -1 : from + index;
    }

    /// <summary>Strips comment markers and the leading <c>*</c> of continuation lines; null when empty.</summary>
    internal static IReadOnlyList<string>? Clean(string comment)
    {
        var lines = new List<string>();
        if (comment.StartsWith("/*", StringComparison.Ordinal))
        {
            string body = comment[2..^2];
            if (body.StartsWith('*') || body.StartsWith('!'))
            {
                body = body[1..];
            }

            foreach (string raw in body.Split('\n'))
            {
                string line = raw.Trim();
                if (line.StartsWith('*'))
                {
                    line = line[1..].Trim();
                }

                lines.Add(line);
            }
        }
        else
        {
            foreach (string raw in comment.Split('\n'))
            {
                string line = raw.Trim();
                if (line.StartsWith("//", StringComparison.Ordinal))
                {
                    line = line[2..];
                    if (line.StartsWith('/') || line.StartsWith('!'))
                    {
                        line = line[1..];
                    }
                }

                lines.Add(line.Trim());
            }
        }

        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines.Count == 0 ? null : lines;
    }
}
