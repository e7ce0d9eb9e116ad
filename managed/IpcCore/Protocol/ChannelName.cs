namespace IpcCore.Protocol;

/// <summary>
/// Channel names and subscription patterns (docs/PROTOCOL.md, Channels). A name is 1 to 255 bytes of
/// dot-separated tokens, each a non-empty run of <c>[A-Za-z0-9_-]</c>. A pattern is a name whose tokens
/// may also be <c>*</c> (exactly one token) or, as the last token only, <c>&gt;</c> (one or more tokens).
/// Everything here works on the UTF-8 bytes and allocates nothing.
/// </summary>
public static class ChannelName
{
    /// <summary>Whether <paramref name="name"/> is a valid channel name (no wildcards).</summary>
    public static bool IsValidName(ReadOnlySpan<byte> name) => Validate(name, allowWildcards: false);

    /// <summary>Whether <paramref name="pattern"/> is a valid subscription pattern (a name is one too).</summary>
    public static bool IsValidPattern(ReadOnlySpan<byte> pattern) => Validate(pattern, allowWildcards: true);

    /// <summary>Whether <paramref name="pattern"/> contains a wildcard token.</summary>
    public static bool HasWildcard(ReadOnlySpan<byte> pattern)
    {
        foreach (Range r in pattern.Split((byte)'.'))
        {
            ReadOnlySpan<byte> token = pattern[r];
            if (token.Length == 1 && (token[0] == (byte)'*' || token[0] == (byte)'>'))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether the valid channel <paramref name="name"/> matches the valid <paramref name="pattern"/>:
    /// literal tokens match themselves, <c>*</c> any one token, a trailing <c>&gt;</c> one or more tokens.
    /// </summary>
    public static bool Matches(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> name)
    {
        while (true)
        {
            int pDot = pattern.IndexOf((byte)'.');
            int nDot = name.IndexOf((byte)'.');
            ReadOnlySpan<byte> pToken = pDot < 0 ? pattern : pattern[..pDot];
            ReadOnlySpan<byte> nToken = nDot < 0 ? name : name[..nDot];

            if (pToken.Length == 1 && pToken[0] == (byte)'>')
            {
                return true; // the name has at least this one token left
            }
            if (!(pToken.Length == 1 && pToken[0] == (byte)'*') && !pToken.SequenceEqual(nToken))
            {
                return false;
            }
            if (pDot < 0 || nDot < 0)
            {
                return pDot < 0 && nDot < 0; // both must end together
            }
            pattern = pattern[(pDot + 1)..];
            name = name[(nDot + 1)..];
        }
    }

    /// <summary>Describes why <paramref name="value"/> is not a valid name or pattern, or null when it is.</summary>
    public static string? Explain(ReadOnlySpan<byte> value, bool allowWildcards)
    {
        if (value.IsEmpty)
        {
            return "the channel name is empty";
        }
        if (value.Length > FrameHeader.MaxChannelLength)
        {
            return $"the channel name is {value.Length} bytes long; the limit is {FrameHeader.MaxChannelLength}";
        }
        int index = 0;
        foreach (Range r in value.Split((byte)'.'))
        {
            ReadOnlySpan<byte> token = value[r];
            bool last = r.End.GetOffset(value.Length) == value.Length;
            if (token.IsEmpty)
            {
                return "the channel name has an empty token (a leading, trailing or doubled '.')";
            }
            if (token.Length == 1 && (token[0] == (byte)'*' || token[0] == (byte)'>'))
            {
                if (!allowWildcards)
                {
                    return $"wildcard '{(char)token[0]}' is only allowed in subscription patterns";
                }
                if (token[0] == (byte)'>' && !last)
                {
                    return "'>' is only allowed as the last token";
                }
            }
            else
            {
                foreach (byte b in token)
                {
                    if (!IsTokenByte(b))
                    {
                        return b is >= 0x20 and < 0x7f
                            ? $"the channel name has the character '{(char)b}' in token {index + 1}; tokens are [A-Za-z0-9_-]"
                            : $"the channel name has the byte 0x{b:x2} in token {index + 1}; tokens are [A-Za-z0-9_-]";
                    }
                }
            }
            index++;
        }
        return null;
    }

    private static bool Validate(ReadOnlySpan<byte> value, bool allowWildcards)
    {
        if (value.IsEmpty || value.Length > FrameHeader.MaxChannelLength)
        {
            return false;
        }
        int tokenStart = 0;
        for (int i = 0; i <= value.Length; i++)
        {
            if (i < value.Length && value[i] != (byte)'.')
            {
                continue;
            }
            ReadOnlySpan<byte> token = value[tokenStart..i];
            if (token.IsEmpty)
            {
                return false;
            }
            if (token.Length == 1 && (token[0] == (byte)'*' || token[0] == (byte)'>'))
            {
                if (!allowWildcards || (token[0] == (byte)'>' && i != value.Length))
                {
                    return false;
                }
            }
            else
            {
                foreach (byte b in token)
                {
                    if (!IsTokenByte(b))
                    {
                        return false;
                    }
                }
            }
            tokenStart = i + 1;
        }
        return true;
    }

    private static bool IsTokenByte(byte b)
        => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'_' or (byte)'-';
}
