using System.Text;
using IpcCore.Protocol;

namespace IpcCore.Client;

/// <summary>Checks and repairs client names for Hello (1 to 64 bytes of UTF-8, no control characters).</summary>
internal static class ClientNames
{
    /// <summary>Why <paramref name="name"/> cannot be a client name, or null when it can.</summary>
    public static string? Explain(string name)
    {
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes is 0 or > HelloPayload.MaxNameLength)
        {
            return $"the client name must be 1 to {HelloPayload.MaxNameLength} bytes of UTF-8; '{name}' is {bytes}";
        }
        foreach (char c in name)
        {
            if (char.IsControl(c))
            {
                return "the client name contains a control character";
            }
        }
        return null;
    }

    /// <summary>Replaces control characters with '_' and cuts the name to 64 bytes (never inside a character).</summary>
    public static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        int bytes = 0;
        foreach (Rune rune in name.EnumerateRunes())
        {
            Rune r = Rune.IsControl(rune) ? new Rune('_') : rune;
            if (bytes + r.Utf8SequenceLength > HelloPayload.MaxNameLength)
            {
                break;
            }
            bytes += r.Utf8SequenceLength;
            builder.Append(r.ToString());
        }
        return builder.Length == 0 ? "client" : builder.ToString();
    }
}
