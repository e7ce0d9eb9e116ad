using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.Protocol;

[TestFixture]
public sealed class FrameReaderTests
{
    private const byte Publish = (byte)FrameType.Publish;
    private const byte Data = (byte)FrameType.Data;
    private const byte Ack = (byte)FrameType.Ack;

    // --- every rejection path, with its code --------------------------------------------------

    private static IEnumerable<TestCaseData> Rejections()
    {
        yield return Case("wrong magic", FrameBytes.Raw(Ack, payloadLength: 16, magic: 0x48435058), ProtocolErrorCode.BadMagic);
        yield return Case("version 2", FrameBytes.Raw(Ack, version: 2), ProtocolErrorCode.UnsupportedVersion);
        yield return Case("version 0", FrameBytes.Raw(Ack, version: 0), ProtocolErrorCode.UnsupportedVersion);
        yield return Case("type 0", FrameBytes.Raw(0), ProtocolErrorCode.UnknownType);
        yield return Case("type 12", FrameBytes.Raw(12), ProtocolErrorCode.UnknownType);
        yield return Case("type 255", FrameBytes.Raw(255), ProtocolErrorCode.UnknownType);
        yield return Case("NoAck on Data", FrameBytes.Raw(Data, flags: 1, channelLength: 1, body: "a"u8), ProtocolErrorCode.InvalidFlags);
        yield return Case("Fatal on Publish", FrameBytes.Raw(Publish, flags: 2, channelLength: 1, body: "a"u8), ProtocolErrorCode.InvalidFlags);
        yield return Case("undefined bit on Error", FrameBytes.Raw((byte)FrameType.Error, flags: 4, payloadLength: 4), ProtocolErrorCode.InvalidFlags);
        yield return Case("any flag on Ping", FrameBytes.Raw((byte)FrameType.Ping, flags: 1), ProtocolErrorCode.InvalidFlags);
        yield return Case("priority on Ack", FrameBytes.Raw(Ack, reserved: 1, payloadLength: 16), ProtocolErrorCode.InvalidFlags);
        yield return Case("priority on Subscribe", FrameBytes.Raw((byte)FrameType.Subscribe, reserved: 3, channelLength: 1, body: "a"u8), ProtocolErrorCode.InvalidFlags);
        yield return Case("priority over 32767 on Publish", FrameBytes.Raw(Publish, reserved: 32768, channelLength: 1, body: "a"u8), ProtocolErrorCode.InvalidFlags);
        yield return Case("Publish without channel", FrameBytes.Raw(Publish), ProtocolErrorCode.InvalidChannel);
        yield return Case("Subscribe without channel", FrameBytes.Raw((byte)FrameType.Subscribe), ProtocolErrorCode.InvalidChannel);
        yield return Case("Ack with a channel", FrameBytes.Raw(Ack, channelLength: 1, payloadLength: 16), ProtocolErrorCode.InvalidChannel);
        yield return Case("Hello with a channel", FrameBytes.Raw((byte)FrameType.Hello, channelLength: 3), ProtocolErrorCode.InvalidChannel);
        yield return Case("channel of 256 bytes", FrameBytes.Raw(Publish, channelLength: 256), ProtocolErrorCode.ChannelTooLong);
        yield return Case("channel of 65535 bytes", FrameBytes.Raw(Data, channelLength: 65535), ProtocolErrorCode.ChannelTooLong);
        yield return Case("control payload over 4096", FrameBytes.Raw(Ack, payloadLength: 4097), ProtocolErrorCode.PayloadTooLarge);
        yield return Case("Data over the maximum", FrameBytes.Raw(Data, channelLength: 1, payloadLength: 1024 * 1024 + 1), ProtocolErrorCode.PayloadTooLarge);
        yield return Case("payload length 4 GiB - 1", FrameBytes.Raw((byte)FrameType.Goodbye, payloadLength: uint.MaxValue), ProtocolErrorCode.PayloadTooLarge);
        yield return Case("malformed channel", Complete(FrameType.Publish, "a..b"u8), ProtocolErrorCode.InvalidChannel);
        yield return Case("wildcard in a Publish channel", Complete(FrameType.Publish, "a.*"u8), ProtocolErrorCode.InvalidChannel);
        yield return Case("wildcard in a Data channel", Complete(FrameType.Data, "a.>"u8), ProtocolErrorCode.InvalidChannel);
        yield return Case("'>' not last in a pattern", Complete(FrameType.Subscribe, ">.a"u8), ProtocolErrorCode.InvalidChannel);
        yield return Case("NUL in a channel", Complete(FrameType.Publish, "a\0b"u8), ProtocolErrorCode.InvalidChannel);
        yield return Case("space in a channel", Complete(FrameType.Unsubscribe, "a b"u8), ProtocolErrorCode.InvalidChannel);
    }

    private static TestCaseData Case(string name, byte[] frame, ProtocolErrorCode code) => new TestCaseData(frame, code).SetArgDisplayNames(name);

    private static byte[] Complete(FrameType type, ReadOnlySpan<byte> channel)
        => FrameBytes.Raw((byte)type, channelLength: channel.Length, body: channel);

    [TestCaseSource(nameof(Rejections))]
    public void Rejects_with_its_code(byte[] frame, ProtocolErrorCode code)
    {
        FrameParseResult result = FrameBytes.Parse(frame, out _, out _, out ProtocolErrorCode error, out string? reason);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(FrameParseResult.Invalid));
            Assert.That(error, Is.EqualTo(code));
            Assert.That(reason, Is.Not.Null.And.Not.Empty);
        });
    }

    [Test]
    public void Header_violations_are_found_from_the_header_alone()
    {
        // Only the 24 header bytes are there: a reader must not wait for (or reserve) a claimed 4 GiB.
        byte[] header = FrameBytes.Raw(Data, channelLength: 5, payloadLength: uint.MaxValue);
        Assert.That(FrameBytes.Parse(header, out _, out _, out ProtocolErrorCode error, out _), Is.EqualTo(FrameParseResult.Invalid));
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(23)]
    public void Bad_magic_is_rejected_from_the_first_byte(int available)
    {
        byte[] garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        Assert.That(FrameBytes.Parse(garbage.AsSpan(0, available), out _, out _, out ProtocolErrorCode error, out _), Is.EqualTo(FrameParseResult.Invalid));
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.BadMagic));
    }

    [Test]
    public void A_magic_prefix_is_incomplete_not_invalid()
    {
        byte[] frame = FrameBytes.Frame(FrameType.Ping, FrameFlags.None, 1, default, default);
        for (int n = 0; n < FrameHeader.Size; n++)
        {
            Assert.That(FrameBytes.Parse(frame.AsSpan(0, n), out _, out int needed, out _, out _), Is.EqualTo(FrameParseResult.Incomplete), $"{n} bytes");
            Assert.That(needed, Is.EqualTo(FrameHeader.Size), $"{n} bytes: the header is needed first");
        }
    }

    // --- incomplete / needed --------------------------------------------------------------------

    [TestCase(FrameType.Publish, (ushort)0)]
    [TestCase(FrameType.Publish, (ushort)7)]
    [TestCase(FrameType.Data, FrameHeader.MaxPriority)]
    public void A_priority_round_trips_on_publish_and_data(FrameType type, ushort priority)
    {
        byte[] buffer = new byte[64];
        int length = FrameWriter.Write(buffer, type, FrameFlags.None, 9, "a.b"u8, "xyz"u8, priority);
        Assert.That(FrameReader.TryParse(buffer.AsSpan(0, length), ProtocolLimits.Default, out Frame frame, out int needed, out _, out _),
            Is.EqualTo(FrameParseResult.Complete));
        ushort got = frame.Priority;
        byte[] payload = frame.Payload.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(needed, Is.EqualTo(length));
            Assert.That(got, Is.EqualTo(priority));
            Assert.That(payload, Is.EqualTo("xyz"u8.ToArray()));
        });
    }

    [Test]
    public void Needed_is_the_whole_frame_once_the_header_is_in()
    {
        byte[] frame = FrameBytes.Frame(FrameType.Data, FrameFlags.None, 9, "weather"u8, new byte[1000]);
        foreach (int available in (int[])[FrameHeader.Size, FrameHeader.Size + 3, frame.Length - 1])
        {
            Assert.That(FrameBytes.Parse(frame.AsSpan(0, available), out _, out int needed, out _, out _), Is.EqualTo(FrameParseResult.Incomplete));
            Assert.That(needed, Is.EqualTo(frame.Length), $"{available} bytes available");
        }
    }

    [Test]
    public void A_complete_frame_followed_by_more_bytes_consumes_only_itself()
    {
        byte[] first = FrameBytes.Frame(FrameType.Data, FrameFlags.None, 1, "a"u8, "xy"u8);
        byte[] second = FrameBytes.Frame(FrameType.Ping, FrameFlags.None, 2, default, default);
        byte[] both = [.. first, .. second];
        ProtocolLimits limits = ProtocolLimits.Default;

        Assert.That(FrameReader.TryParse(both, limits, out Frame frame, out int needed, out _, out _), Is.EqualTo(FrameParseResult.Complete));
        Assert.That(needed, Is.EqualTo(first.Length));
        Assert.That(frame.Payload.ToArray(), Is.EqualTo("xy"u8.ToArray()));
        Assert.That(FrameReader.TryParse(both.AsSpan(needed), limits, out frame, out needed, out _, out _), Is.EqualTo(FrameParseResult.Complete));
        Assert.That((frame.Type, frame.Sequence, needed), Is.EqualTo((FrameType.Ping, 2ul, second.Length)));
    }

    [Test]
    public void A_channel_is_checked_only_once_it_is_in()
    {
        byte[] frame = Complete(FrameType.Publish, "a..b"u8);
        Assert.That(FrameBytes.Parse(frame.AsSpan(0, frame.Length - 1), out _, out int needed, out _, out _), Is.EqualTo(FrameParseResult.Incomplete));
        Assert.That(needed, Is.EqualTo(frame.Length));
    }

    [Test]
    public void Limits_come_from_the_caller()
    {
        byte[] frame = FrameBytes.Frame(FrameType.Data, FrameFlags.None, 1, "a"u8, new byte[100]);
        Assert.That(FrameBytes.Parse(frame, out _, out _, out _, out _, new ProtocolLimits(100)), Is.EqualTo(FrameParseResult.Complete));
        Assert.That(FrameBytes.Parse(frame, out _, out _, out ProtocolErrorCode error, out string? reason, new ProtocolLimits(99)), Is.EqualTo(FrameParseResult.Invalid));
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));
        Assert.That(reason, Does.Contain("100 bytes").And.Contain("99 bytes"));
    }

    [Test]
    public void A_control_frame_may_carry_exactly_4096_bytes()
    {
        byte[] frame = FrameBytes.Frame(FrameType.Goodbye, FrameFlags.None, 0, default, new byte[ProtocolLimits.MaxControlPayload]);
        Assert.That(FrameBytes.Parse(frame, out _, out _, out _, out _, new ProtocolLimits(10)), Is.EqualTo(FrameParseResult.Complete));
    }

    // --- the recoverable oversized Publish -----------------------------------------------------

    [Test]
    public void An_oversized_publish_names_the_request_and_how_much_to_skip()
    {
        const int max = 1000;
        byte[] header = FrameBytes.Raw(Publish, flags: 1, channelLength: 7, payloadLength: max + 1, sequence: 77);

        FrameParseResult result = FrameBytes.Parse(header, out FrameHeader frame, out int needed,
            out ProtocolErrorCode error, out string? reason, new ProtocolLimits(max));

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(FrameParseResult.Invalid));
            Assert.That(error, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));
            Assert.That(frame.Type, Is.EqualTo(FrameType.Publish), "recoverable: the frame is named");
            Assert.That(frame.Sequence, Is.EqualTo(77ul), "the request id for the Error");
            Assert.That(frame.Flags, Is.EqualTo(FrameFlags.NoAck));
            Assert.That(frame.PayloadLength, Is.Zero);
            Assert.That(needed, Is.EqualTo(FrameHeader.Size + 7 + max + 1), "the bytes to discard");
            Assert.That(reason, Does.Contain("1001 bytes").And.Contain("1000 bytes"));
        });
    }

    [Test]
    public void Other_oversized_frames_are_not_recoverable()
    {
        byte[] header = FrameBytes.Raw(Data, channelLength: 1, payloadLength: 2000, sequence: 5);
        FrameReader.TryParse(header, new ProtocolLimits(1000), out Frame frame, out _, out ProtocolErrorCode error, out _);
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));
        Assert.That((int)frame.Type, Is.Zero);
    }

    [Test]
    public void A_publish_too_large_to_skip_in_an_int_is_not_recoverable()
    {
        byte[] header = FrameBytes.Raw(Publish, channelLength: 255, payloadLength: uint.MaxValue, sequence: 5);
        FrameReader.TryParse(header, ProtocolLimits.Default, out Frame frame, out _, out ProtocolErrorCode error, out _);
        Assert.That(error, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));
        Assert.That((int)frame.Type, Is.Zero);
    }

    [Test]
    public void A_subscribe_may_carry_wildcards()
    {
        foreach (byte[] pattern in (byte[][])["a.*"u8.ToArray(), "a.>"u8.ToArray(), "*"u8.ToArray(), ">"u8.ToArray(), "*.b.>"u8.ToArray()])
        {
            Assert.That(FrameBytes.Parse(Complete(FrameType.Subscribe, pattern), out _, out _, out _, out string? reason),
                Is.EqualTo(FrameParseResult.Complete), reason);
        }
    }
}
