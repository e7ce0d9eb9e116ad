using System.Buffers.Binary;

namespace IpcCore.Protocol;

/// <summary>
/// The payload of Ack: <c>u32 delivered, u32 not delivered, u64 channel sequence, u32 of the not delivered
/// those whose transport cannot carry descriptors, u32 0</c>. For a Publish, <c>delivered</c> is the number
/// of subscribers it was queued for at routing time, <c>not delivered</c> those that did not get it (the
/// <c>drop</c> policy, or, for a message with descriptors, a transport that cannot carry them: counted
/// again in the fifth field) and the channel sequence is the number it got; for Subscribe/Unsubscribe,
/// <c>delivered</c> is the number of subscriptions the client now holds. A 16-byte Ack (without the last
/// two fields) is read with 0 there.
/// </summary>
public readonly record struct AckPayload(int Delivered, int NotDelivered, ulong ChannelSequence, int CannotCarryDescriptors = 0)
{
    public const int Size = 24;

    /// <summary>The length of the original Ack, still accepted.</summary>
    public const int ShortSize = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Delivered);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)NotDelivered);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], ChannelSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)CannotCarryDescriptors);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], 0);
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out AckPayload ack)
    {
        if (payload.Length is not (Size or ShortSize))
        {
            ack = default;
            return false;
        }
        ack = new AckPayload(
            (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload), int.MaxValue),
            (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]), int.MaxValue),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
            payload.Length == Size ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]), int.MaxValue) : 0);
        return true;
    }
}
