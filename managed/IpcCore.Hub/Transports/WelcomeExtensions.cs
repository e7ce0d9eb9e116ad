using System.Text;

namespace IpcCore.Hub.Transports;

/// <summary>Encoding helpers for Welcome's transport-specific bytes (docs/PROTOCOL.md).</summary>
internal static class WelcomeExtensions
{
    /// <summary>Appends a u16 little-endian length and the UTF-8 bytes of <paramref name="name"/>.</summary>
    public static void AppendName(List<byte> ext, string name)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"The name '{name}' is too long for Welcome.", nameof(name));
        }
        ext.Add((byte)bytes.Length);
        ext.Add((byte)(bytes.Length >> 8));
        ext.AddRange(bytes);
    }

    /// <summary>Appends a u32 little-endian value.</summary>
    public static void AppendUInt32(List<byte> ext, uint value)
    {
        for (int i = 0; i < 4; i++)
        {
            ext.Add((byte)(value >> (8 * i)));
        }
    }
}
