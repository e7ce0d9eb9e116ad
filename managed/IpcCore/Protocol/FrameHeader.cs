using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace IpcCore.Protocol;

/// <summary>
/// The fixed 24-byte little-endian header that starts every frame (docs/PROTOCOL.md):
/// <code>
///  0  u32 magic "IPCH"   4  u8 version   5  u8 type   6  u16 flags
///  8  u16 channel length 10 u16 priority (Publish, Data; else 0)  12 u32 payload length
/// 16  u64 sequence
/// </code>
/// followed by the channel bytes (UTF-8, no NUL) and the payload bytes.
/// </summary>
/// <remarks>
/// <see cref="Priority"/> (0..<see cref="MaxPriority"/>) matters only on the message-queue transport, where it is
/// the mq priority of the frame's messages: a higher one may overtake lower ones still queued. Elsewhere it
/// is carried along unchanged.
/// </remarks>
public readonly record struct FrameHeader(FrameType Type, FrameFlags Flags, int ChannelLength, int PayloadLength, ulong Sequence, ushort Priority = 0)
{
    /// <summary>The highest priority (Linux's MQ_PRIO_MAX is 32768).</summary>
    public const ushort MaxPriority = 32767;

    /// <summary>Where the priority sits in the header (u16).</summary>
    public const int PriorityOffset = 10;

    /// <summary>Header bytes.</summary>
    public const int Size = 24;

    /// <summary>"IPCH" read as a little-endian u32.</summary>
    public const uint Magic = 0x48435049;

    /// <summary>The protocol version this library speaks.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The longest channel name or pattern.</summary>
    public const int MaxChannelLength = 255;

    /// <summary>The whole frame's length: header, channel and payload.</summary>
    public long FrameLength => Size + (long)ChannelLength + PayloadLength;

    /// <summary>The number of descriptors attached to a Publish or Data frame (the flags' high byte).</summary>
    public int DescriptorCount => DescriptorCountOf(Flags);

    /// <summary>The descriptor count in <paramref name="flags"/> (its high byte).</summary>
    public static int DescriptorCountOf(FrameFlags flags) => (ushort)(flags & FrameFlags.DescriptorCountMask) >> 8;

    /// <summary><paramref name="flags"/> with the descriptor count set to <paramref name="count"/> (0..255).</summary>
    public static FrameFlags WithDescriptors(FrameFlags flags, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 255);
        return (flags & ~FrameFlags.DescriptorCountMask) | (FrameFlags)(ushort)(count << 8);
    }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        if (Priority > MaxPriority)
        {
            throw new InvalidOperationException($"A frame priority is at most {MaxPriority} (got {Priority}).");
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = CurrentVersion;
        destination[5] = (byte)Type;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], checked((ushort)ChannelLength));
        BinaryPrimitives.WriteUInt16LittleEndian(destination[PriorityOffset..], Priority);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], checked((uint)PayloadLength));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Sequence);
    }
}
