using System.Buffers.Binary;
using System.Text;

namespace IpcCore.Protocol;

/// <summary>Encodes frames into caller-provided buffers without allocating.</summary>
public static class FrameWriter
{
    /// <summary>The bytes a frame with this channel and payload takes.</summary>
    public static int FrameLength(int channelLength, int payloadLength) => FrameHeader.Size + channelLength + payloadLength;

    /// <summary>
    /// Turns a copy of a validated Publish frame into the Data frame subscribers get: the two differ only in the
    /// header's type, flags and sequence (the channel sequence instead of the request id).
    /// </summary>
    public static void PublishToData(Span<byte> frame, ulong sequence)
    {
        frame[5] = (byte)FrameType.Data;
        // Of Publish's flags only the descriptor count carries over (NoAck is the publisher's business).
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]);
        BinaryPrimitives.WriteUInt16LittleEndian(frame[6..], (ushort)(flags & (ushort)FrameFlags.DescriptorCountMask));
        BinaryPrimitives.WriteUInt64LittleEndian(frame[16..], sequence);
    }

    /// <summary>Writes a whole frame into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, FrameType type, FrameFlags flags, ulong sequence,
        ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload, ushort priority = 0)
    {
        int length = FrameLength(channel.Length, payload.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        new FrameHeader(type, flags, channel.Length, payload.Length, sequence, priority).Write(destination);
        channel.CopyTo(destination[FrameHeader.Size..]);
        payload.CopyTo(destination[(FrameHeader.Size + channel.Length)..]);
        return length;
    }

    /// <summary>Writes an Ack of request <paramref name="sequence"/> (see <see cref="AckPayload"/>).</summary>
    public static int WriteAck(Span<byte> destination, ulong sequence, in AckPayload ack)
    {
        Span<byte> payload = stackalloc byte[AckPayload.Size];
        ack.Write(payload);
        return Write(destination, FrameType.Ack, FrameFlags.None, sequence, default, payload);
    }

    /// <summary>The bytes an Error frame with <paramref name="reason"/> takes (the reason is cut to fit the control limit).</summary>
    public static int ErrorFrameLength(string reason) => FrameLength(0, ErrorPayload.LengthOf(reason));

    /// <summary>Writes an Error frame about request <paramref name="sequence"/> (0: not about a request).</summary>
    public static int WriteError(Span<byte> destination, ulong sequence, ProtocolErrorCode code, string reason, bool fatal)
    {
        int payloadLength = ErrorPayload.LengthOf(reason);
        int length = FrameLength(0, payloadLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        new FrameHeader(FrameType.Error, fatal ? FrameFlags.Fatal : FrameFlags.None, 0, payloadLength, sequence).Write(destination);
        ErrorPayload.Write(destination.Slice(FrameHeader.Size, payloadLength), code, reason);
        return length;
    }

    /// <summary>Writes a Goodbye frame with an optional reason.</summary>
    public static int WriteGoodbye(Span<byte> destination, string reason)
    {
        int payloadLength = Math.Min(Encoding.UTF8.GetByteCount(reason), ProtocolLimits.MaxControlPayload);
        int length = FrameLength(0, payloadLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        new FrameHeader(FrameType.Goodbye, FrameFlags.None, 0, payloadLength, 0).Write(destination);
        ErrorPayload.EncodeTruncated(reason, destination.Slice(FrameHeader.Size, payloadLength));
        return length;
    }

    internal static void WriteUInt32(Span<byte> destination, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(destination, value);
}
