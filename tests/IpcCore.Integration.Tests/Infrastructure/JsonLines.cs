using System.Text.Json;
using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>One line of <c>myipcsub --format json</c>.</summary>
internal sealed record JsonMessage(string Channel, ulong Seq, int Size, string? Text, byte[] Bytes)
{
    public static JsonMessage Parse(string line)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            JsonElement text = root.GetProperty("text");
            return new JsonMessage(
                root.GetProperty("channel").GetString() ?? throw new FormatException("channel is null"),
                root.GetProperty("seq").GetUInt64(),
                root.GetProperty("size").GetInt32(),
                text.ValueKind == JsonValueKind.Null ? null : text.GetString(),
                Convert.FromBase64String(root.GetProperty("base64").GetString() ?? throw new FormatException("base64 is null")));
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new AssertionException($"not a myipcsub JSON line ({e.Message}): {(line.Length > 300 ? line[..300] + "..." : line)}");
        }
    }
}
