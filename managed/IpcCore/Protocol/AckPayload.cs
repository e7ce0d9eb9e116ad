using System.Buffers.Binary;

namespace IpcCore.Protocol;

/// <summary>
/// The payload of Ack: <c>u32 delivered, u32 not delivered, u64 channel sequence</c>. For a Publish,
/// <c>delivered</c> is the number of subscribers it was queued for at routing time and the channel
/// sequence is the number it got; for Subscribe/Unsubscribe, <c>delivered</c> is the number of
/// subscriptions the client now holds.
/// </summary>
public readonly record struct AckPayload(int Delivered, int NotDelivered, ulong ChannelSequence)
{
    public const int Size = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Delivered);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)NotDelivered);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], ChannelSequence);
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out AckPayload ack)
    {
        if (payload.Length != Size)
        {
            ack = default;
            return false;
        }
        ack = new AckPayload(
            (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload), int.MaxValue),
            (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]), int.MaxValue),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]));
        return true;
    }
}
