using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace IpcCore.Protocol;

/// <summary>
/// The payload of Hello: <c>u8 transport, u8 reserved (0), u16 name length, name (UTF-8, 1..64 bytes of
/// printable ASCII or UTF-8 without control characters)</c>.
/// </summary>
public readonly record struct HelloPayload(TransportKind Transport, string ClientName)
{
    /// <summary>The longest client name in bytes.</summary>
    public const int MaxNameLength = 64;

    public int Length => 4 + Encoding.UTF8.GetByteCount(ClientName);

    public int Write(Span<byte> destination)
    {
        int nameLength = Encoding.UTF8.GetByteCount(ClientName);
        if (nameLength is 0 or > MaxNameLength)
        {
            throw new ArgumentException($"The client name must be 1 to {MaxNameLength} bytes of UTF-8.", nameof(destination));
        }
        destination[0] = (byte)Transport;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)nameLength);
        return 4 + Encoding.UTF8.GetBytes(ClientName, destination[4..]);
    }

    /// <summary>Parses a Hello payload; on failure <paramref name="reason"/> says why.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out HelloPayload hello, out string? reason)
    {
        hello = default;
        if (payload.Length < 4)
        {
            reason = "the Hello payload is shorter than 4 bytes";
            return false;
        }
        byte transport = payload[0];
        if (!Enum.IsDefined((TransportKind)transport))
        {
            reason = $"unknown transport {transport}";
            return false;
        }
        if (payload[1] != 0)
        {
            reason = "the Hello reserved byte is not zero";
            return false;
        }
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]);
        if (nameLength is 0 or > MaxNameLength || payload.Length != 4 + nameLength)
        {
            reason = $"the client name must be 1 to {MaxNameLength} bytes and fill the rest of the Hello payload";
            return false;
        }
        ReadOnlySpan<byte> name = payload.Slice(4, nameLength);
        foreach (byte b in name)
        {
            if (b < 0x20 || b == 0x7f)
            {
                reason = "the client name contains a control character";
                return false;
            }
        }
        if (!Utf8.IsValid(name))
        {
            reason = "the client name is not valid UTF-8";
            return false;
        }
        hello = new HelloPayload((TransportKind)transport, Encoding.UTF8.GetString(name));
        reason = null;
        return true;
    }
}
