using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace IpcCore.Protocol;

/// <summary>The payload of Error: <c>u16 code, u16 reserved (0), reason (UTF-8, the rest)</c>.</summary>
public static class ErrorPayload
{
    private const int FixedSize = 4;

    /// <summary>The payload length for <paramref name="reason"/>, cut to the control-payload limit.</summary>
    public static int LengthOf(string reason)
        => FixedSize + Math.Min(Encoding.UTF8.GetByteCount(reason), ProtocolLimits.MaxControlPayload - FixedSize);

    public static void Write(Span<byte> destination, ProtocolErrorCode code, string reason)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)code);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], 0);
        EncodeTruncated(reason, destination[FixedSize..]);
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out ProtocolErrorCode code, out string reason)
    {
        if (payload.Length < FixedSize)
        {
            code = ProtocolErrorCode.InternalError;
            reason = "malformed error frame";
            return false;
        }
        code = (ProtocolErrorCode)BinaryPrimitives.ReadUInt16LittleEndian(payload);
        reason = Encoding.UTF8.GetString(payload[FixedSize..]);
        return true;
    }

    // Encodes as much of the text as fits, never splitting a UTF-8 sequence.
    internal static void EncodeTruncated(string text, Span<byte> destination)
    {
        Utf8.FromUtf16(text, destination, out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
        destination[written..].Clear();
    }
}
