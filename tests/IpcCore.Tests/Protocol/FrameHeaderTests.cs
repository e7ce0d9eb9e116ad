using System.Buffers.Binary;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.Protocol;

[TestFixture]
public sealed class FrameHeaderTests
{
    [Test]
    public void Header_layout_is_little_endian_with_the_magic_first()
    {
        byte[] bytes = new byte[FrameHeader.Size];
        new FrameHeader(FrameType.Publish, FrameFlags.NoAck, 7, 0x01020304, 0x1122334455667788).Write(bytes);

        Assert.Multiple(() =>
        {
            Assert.That(bytes[..4], Is.EqualTo("IPCH"u8.ToArray()));
            Assert.That(bytes[4], Is.EqualTo(1), "version");
            Assert.That(bytes[5], Is.EqualTo((byte)FrameType.Publish));
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)), Is.EqualTo(1), "flags");
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)), Is.EqualTo(7), "channel length");
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(10)), Is.Zero, "reserved");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)), Is.EqualTo(0x01020304u));
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)), Is.EqualTo(0x1122334455667788ul));
        });
    }

    [Test]
    public void Write_then_parse_round_trips_every_frame_type()
    {
        foreach (FrameType type in Enum.GetValues<FrameType>())
        {
            bool hasChannel = type is FrameType.Subscribe or FrameType.Unsubscribe or FrameType.Publish or FrameType.Data;
            byte[] channel = hasChannel ? "sensors.temp"u8.ToArray() : [];
            byte[] payload = type switch
            {
                FrameType.Ack => new byte[AckPayload.Size],
                FrameType.Subscribe or FrameType.Unsubscribe => [],
                _ => [1, 2, 3, 4, 5],
            };
            FrameFlags flags = type switch
            {
                FrameType.Publish => FrameFlags.NoAck,
                FrameType.Error => FrameFlags.Fatal,
                _ => FrameFlags.None,
            };
            byte[] frame = FrameBytes.Frame(type, flags, 42, channel, payload);

            FrameParseResult result = FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out int needed, out _, out string? reason);

            Assert.That(result, Is.EqualTo(FrameParseResult.Complete), $"{type}: {reason}");
            FrameHeader header = parsed.Header;
            byte[] parsedChannel = parsed.Channel.ToArray();
            byte[] parsedPayload = parsed.Payload.ToArray();
            Assert.Multiple(() =>
            {
                Assert.That(header.Type, Is.EqualTo(type));
                Assert.That(header.Flags, Is.EqualTo(flags));
                Assert.That(header.Sequence, Is.EqualTo(42ul));
                Assert.That(parsedChannel, Is.EqualTo(channel));
                Assert.That(parsedPayload, Is.EqualTo(payload));
                Assert.That(needed, Is.EqualTo(frame.Length));
                Assert.That(header.FrameLength, Is.EqualTo(frame.Length));
            });
        }
    }

    [Test]
    public void Write_refuses_a_destination_shorter_than_the_header()
        => Assert.That(() => new FrameHeader(FrameType.Ping, FrameFlags.None, 0, 0, 0).Write(new byte[FrameHeader.Size - 1]),
            Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Payload_types_round_trip()
    {
        byte[] ack = new byte[AckPayload.Size];
        new AckPayload(3, 1, 99).Write(ack);
        Assert.That(AckPayload.TryRead(ack, out AckPayload readAck), Is.True);
        Assert.That(readAck, Is.EqualTo(new AckPayload(3, 1, 99)));
        Assert.That(AckPayload.TryRead(ack.AsSpan(1), out _), Is.False, "wrong length");

        byte[] welcome = new byte[WelcomePayload.Size + 3];
        new WelcomePayload(7, 4096, 1234, TransportKind.Socket).Write(welcome);
        welcome[^1] = 0xee;
        Assert.That(WelcomePayload.TryRead(welcome, out WelcomePayload readWelcome, out ReadOnlySpan<byte> extension), Is.True);
        Assert.That(readWelcome, Is.EqualTo(new WelcomePayload(7, 4096, 1234, TransportKind.Socket)));
        Assert.That(extension.Length, Is.EqualTo(3));
        Assert.That(WelcomePayload.TryRead(welcome.AsSpan(0, WelcomePayload.Size - 1), out _, out _), Is.False);

        var hello = new HelloPayload(TransportKind.Socket, "myipcpub-42");
        byte[] helloBytes = new byte[hello.Length];
        Assert.That(hello.Write(helloBytes), Is.EqualTo(helloBytes.Length));
        Assert.That(HelloPayload.TryRead(helloBytes, out HelloPayload readHello, out _), Is.True);
        Assert.That(readHello, Is.EqualTo(hello));

        string reason = "the hub has 4 channels";
        byte[] error = new byte[ErrorPayload.LengthOf(reason)];
        ErrorPayload.Write(error, ProtocolErrorCode.TooManyChannels, reason);
        Assert.That(ErrorPayload.TryRead(error, out ProtocolErrorCode code, out string readReason), Is.True);
        Assert.That((code, readReason), Is.EqualTo((ProtocolErrorCode.TooManyChannels, reason)));
    }

    [Test]
    public void Error_and_goodbye_reasons_are_cut_to_the_control_limit_without_splitting_a_character()
    {
        string reason = new('é', 3000); // 6000 bytes of UTF-8
        byte[] frame = new byte[FrameWriter.ErrorFrameLength(reason)];
        FrameWriter.WriteError(frame, 5, ProtocolErrorCode.InternalError, reason, fatal: true);
        Assert.That(FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out _, out _, out _), Is.EqualTo(FrameParseResult.Complete));
        Assert.That(parsed.Payload.Length, Is.LessThanOrEqualTo(ProtocolLimits.MaxControlPayload));
        ErrorPayload.TryRead(parsed.Payload, out _, out string text);
        Assert.That(text.TrimEnd('\0'), Is.EqualTo(new string('é', text.TrimEnd('\0').Length)));

        byte[] goodbye = new byte[FrameHeader.Size + ProtocolLimits.MaxControlPayload];
        int length = FrameWriter.WriteGoodbye(goodbye, reason);
        Assert.That(length, Is.EqualTo(FrameHeader.Size + ProtocolLimits.MaxControlPayload));
    }

    [TestCase("", "empty")]
    [TestCase("this client name is far too long to fit in sixty-four bytes of utf8 text", "too long")]
    [TestCase("tab\there", "control")]
    public void Hello_rejects_bad_names(string name, string why)
    {
        byte[] bytes = new byte[4 + Math.Max(System.Text.Encoding.UTF8.GetByteCount(name), 0)];
        bytes[0] = (byte)TransportKind.Socket;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)(bytes.Length - 4));
        System.Text.Encoding.UTF8.GetBytes(name, bytes.AsSpan(4));
        Assert.That(HelloPayload.TryRead(bytes, out _, out string? reason), Is.False, why);
        Assert.That(reason, Is.Not.Null.And.Not.Empty);
    }

    [Test]
    public void Hello_rejects_an_unknown_transport_and_a_reserved_byte()
    {
        byte[] bytes = [9, 0, 1, 0, (byte)'x'];
        Assert.That(HelloPayload.TryRead(bytes, out _, out string? reason), Is.False);
        Assert.That(reason, Does.Contain("transport"));
        bytes = [1, 1, 1, 0, (byte)'x'];
        Assert.That(HelloPayload.TryRead(bytes, out _, out reason), Is.False);
        Assert.That(reason, Does.Contain("reserved"));
    }
}
