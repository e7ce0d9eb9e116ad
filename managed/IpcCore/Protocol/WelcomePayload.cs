using System.Buffers.Binary;

namespace IpcCore.Protocol;

/// <summary>
/// The payload of Welcome: <c>u64 client id, u32 maximum message size, i32 hub pid, u8 transport granted,
/// u8 the most descriptors one message may carry on this connection (0: the transport carries none),
/// u8[2] reserved (0)</c>, then transport-specific bytes (empty for the socket transport).
/// </summary>
public readonly record struct WelcomePayload(ulong ClientId, int MaxMessageSize, int HubPid, TransportKind Transport, int MaxDescriptorsPerMessage = 0)
{
    /// <summary>The fixed part's length.</summary>
    public const int Size = 20;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, ClientId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)MaxMessageSize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], HubPid);
        destination[16] = (byte)Transport;
        destination[17] = (byte)Math.Clamp(MaxDescriptorsPerMessage, 0, 255);
        destination[18] = destination[19] = 0;
    }

    /// <summary>Parses the fixed part; <paramref name="extension"/> is what follows it.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out WelcomePayload welcome, out ReadOnlySpan<byte> extension)
    {
        welcome = default;
        extension = default;
        if (payload.Length < Size)
        {
            return false;
        }
        welcome = new WelcomePayload(
            BinaryPrimitives.ReadUInt64LittleEndian(payload),
            (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]), int.MaxValue),
            BinaryPrimitives.ReadInt32LittleEndian(payload[12..]),
            (TransportKind)payload[16],
            payload[17]);
        extension = payload[Size..];
        return true;
    }
}
