using System.Buffers.Binary;

namespace IpcCore.Protocol;

/// <summary>
/// Parses and validates frames from a byte buffer without allocating. Every field is checked
/// (magic, version, type, flags, reserved bits, lengths against <see cref="ProtocolLimits"/>, channel
/// syntax for the frame type) before the caller is told how many bytes the frame needs, so a reader
/// never reserves memory for a length it has not checked.
/// </summary>
public static class FrameReader
{
    /// <summary>
    /// Looks at the start of <paramref name="buffer"/>. Complete: <paramref name="frame"/> is set and
    /// <paramref name="needed"/> is its length (consume that many bytes). Incomplete: <paramref name="needed"/>
    /// is the whole frame's length when the header is in (else <see cref="FrameHeader.Size"/>). Invalid:
    /// <paramref name="error"/> and <paramref name="reason"/> say what is wrong; for
    /// <see cref="ProtocolErrorCode.PayloadTooLarge"/> on a Publish (the one violation a receiver may
    /// recover from) <c>frame.Type</c> is Publish, <c>frame.Sequence</c> the request id and
    /// <paramref name="needed"/> the whole frame's length, so the receiver can discard exactly that many
    /// bytes as they arrive without buffering them. Otherwise <c>frame.Type</c> is 0.
    /// </summary>
    public static FrameParseResult TryParse(
        ReadOnlySpan<byte> buffer,
        scoped in ProtocolLimits limits,
        out Frame frame,
        out int needed,
        out ProtocolErrorCode error,
        out string? reason)
    {
        frame = default;
        error = default;
        reason = null;
        needed = FrameHeader.Size;
        if (buffer.Length < FrameHeader.Size)
        {
            // Reject garbage as early as possible: the magic is checkable from the first byte on.
            if (!MagicPrefixMatches(buffer))
            {
                return Fail(ProtocolErrorCode.BadMagic, "the frame does not start with the magic \"IPCH\"", out error, out reason);
            }
            return FrameParseResult.Incomplete;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(buffer) != FrameHeader.Magic)
        {
            return Fail(ProtocolErrorCode.BadMagic, "the frame does not start with the magic \"IPCH\"", out error, out reason);
        }
        byte version = buffer[4];
        if (version != FrameHeader.CurrentVersion)
        {
            return Fail(ProtocolErrorCode.UnsupportedVersion,
                $"protocol version {version} is not supported; this side speaks version {FrameHeader.CurrentVersion}", out error, out reason);
        }
        byte typeByte = buffer[5];
        if (typeByte is < (byte)FrameType.Hello or > (byte)FrameType.Pong)
        {
            return Fail(ProtocolErrorCode.UnknownType, $"unknown frame type {typeByte}", out error, out reason);
        }
        var type = (FrameType)typeByte;
        var flags = (FrameFlags)BinaryPrimitives.ReadUInt16LittleEndian(buffer[6..]);
        FrameFlags allowed = type switch
        {
            FrameType.Publish => FrameFlags.NoAck | FrameFlags.DescriptorCountMask,
            FrameType.Data => FrameFlags.DescriptorCountMask,
            FrameType.Error => FrameFlags.Fatal,
            _ => FrameFlags.None,
        };
        if ((flags & ~allowed) != 0)
        {
            return Fail(ProtocolErrorCode.InvalidFlags, $"flags 0x{(ushort)flags:x4} are not valid on a {type} frame", out error, out reason);
        }
        ushort priority = BinaryPrimitives.ReadUInt16LittleEndian(buffer[FrameHeader.PriorityOffset..]);
        if (priority != 0 && type is not (FrameType.Publish or FrameType.Data))
        {
            return Fail(ProtocolErrorCode.InvalidFlags, $"a {type} frame carries no priority (got {priority})", out error, out reason);
        }
        if (priority > FrameHeader.MaxPriority)
        {
            return Fail(ProtocolErrorCode.InvalidFlags, $"priority {priority} is over the maximum {FrameHeader.MaxPriority}", out error, out reason);
        }

        int channelLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer[8..]);
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(buffer[12..]);
        bool hasChannel = type is FrameType.Subscribe or FrameType.Unsubscribe or FrameType.Publish or FrameType.Data;
        if (hasChannel && channelLength == 0)
        {
            return Fail(ProtocolErrorCode.InvalidChannel, $"a {type} frame needs a channel", out error, out reason);
        }
        if (!hasChannel && channelLength != 0)
        {
            return Fail(ProtocolErrorCode.InvalidChannel, $"a {type} frame carries no channel", out error, out reason);
        }
        if (channelLength > FrameHeader.MaxChannelLength)
        {
            return Fail(ProtocolErrorCode.ChannelTooLong,
                $"the channel is {channelLength} bytes long; the limit is {FrameHeader.MaxChannelLength}", out error, out reason);
        }
        int maxPayload = limits.MaxPayloadFor(type);
        if (payloadLength > (uint)maxPayload)
        {
            long total = FrameHeader.Size + (long)channelLength + payloadLength;
            if (type == FrameType.Publish && total <= int.MaxValue)
            {
                // Recoverable: the header (with PayloadLength 0) names the request; needed is what to skip.
                var tooLarge = new FrameHeader(type, flags, channelLength, 0, BinaryPrimitives.ReadUInt64LittleEndian(buffer[16..]), priority);
                frame = new Frame(tooLarge, default, default);
                needed = (int)total;
            }
            return Fail(ProtocolErrorCode.PayloadTooLarge, type is FrameType.Publish or FrameType.Data
                    ? $"the message is {payloadLength} bytes; the maximum message size is {maxPayload} bytes"
                    : $"the {type} payload is {payloadLength} bytes; the limit is {maxPayload}", out error, out reason);
        }

        var header = new FrameHeader(type, flags, channelLength, (int)payloadLength, BinaryPrimitives.ReadUInt64LittleEndian(buffer[16..]), priority);
        needed = checked(FrameHeader.Size + channelLength + (int)payloadLength);
        if (buffer.Length < needed)
        {
            return FrameParseResult.Incomplete;
        }

        ReadOnlySpan<byte> channel = buffer.Slice(FrameHeader.Size, channelLength);
        if (hasChannel)
        {
            bool patterns = type is FrameType.Subscribe or FrameType.Unsubscribe;
            bool valid = patterns ? ChannelName.IsValidPattern(channel) : ChannelName.IsValidName(channel);
            if (!valid)
            {
                return Fail(ProtocolErrorCode.InvalidChannel,
                    "invalid channel: " + ChannelName.Explain(channel, allowWildcards: patterns), out error, out reason);
            }
        }
        frame = new Frame(header, channel, buffer.Slice(FrameHeader.Size + channelLength, (int)payloadLength));
        return FrameParseResult.Complete;
    }

    private static bool MagicPrefixMatches(ReadOnlySpan<byte> buffer)
    {
        ReadOnlySpan<byte> magic = "IPCH"u8;
        int n = Math.Min(buffer.Length, magic.Length);
        return buffer[..n].SequenceEqual(magic[..n]);
    }

    private static FrameParseResult Fail(ProtocolErrorCode code, string text, out ProtocolErrorCode error, out string? reason)
    {
        error = code;
        reason = text;
        return FrameParseResult.Invalid;
    }
}
