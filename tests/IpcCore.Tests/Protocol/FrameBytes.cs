using System.Buffers.Binary;
using IpcCore.Protocol;

namespace IpcCore.Tests.Protocol;

/// <summary>Builds raw frames (also malformed ones) field by field.</summary>
internal static class FrameBytes
{
    public static byte[] Raw(byte type, ushort flags = 0, int channelLength = 0, uint payloadLength = 0, ulong sequence = 0,
        uint magic = FrameHeader.Magic, byte version = FrameHeader.CurrentVersion, ushort reserved = 0,
        ReadOnlySpan<byte> body = default)
    {
        byte[] frame = new byte[FrameHeader.Size + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, magic);
        frame[4] = version;
        frame[5] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(8), (ushort)channelLength);
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(10), reserved);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), payloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(16), sequence);
        body.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    public static byte[] Frame(FrameType type, FrameFlags flags, ulong sequence, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[FrameWriter.FrameLength(channel.Length, payload.Length)];
        FrameWriter.Write(frame, type, flags, sequence, channel, payload);
        return frame;
    }

    public static FrameParseResult Parse(ReadOnlySpan<byte> buffer, out FrameHeader header, out int needed,
        out ProtocolErrorCode error, out string? reason, ProtocolLimits? limits = null)
    {
        FrameParseResult result = FrameReader.TryParse(buffer, limits ?? ProtocolLimits.Default, out Frame frame, out needed, out error, out reason);
        header = frame.Header;
        return result;
    }
}
