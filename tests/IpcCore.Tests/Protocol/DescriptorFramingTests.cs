using System.Buffers.Binary;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Tests.Protocol;

/// <summary>
/// The wire format of descriptor passing: the descriptor count in the flags' high byte (Publish and Data
/// only), PublishToData keeping it, the 24-byte Ack with CannotCarryDescriptors and Welcome's byte 17.
/// </summary>
[TestFixture]
public sealed class DescriptorFramingTests
{
    // --- FrameHeader count helpers ---------------------------------------------------------------

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(16)]
    [TestCase(253)]
    [TestCase(255)]
    public void The_descriptor_count_round_trips_through_the_flags_high_byte(int count)
    {
        FrameFlags flags = FrameHeader.WithDescriptors(FrameFlags.None, count);
        Assert.Multiple(() =>
        {
            Assert.That(FrameHeader.DescriptorCountOf(flags), Is.EqualTo(count));
            Assert.That((ushort)flags, Is.EqualTo((ushort)(count << 8)), "the count is the high byte, nothing else is set");
            Assert.That(flags & ~FrameFlags.DescriptorCountMask, Is.EqualTo(FrameFlags.None));
            Assert.That(new FrameHeader(FrameType.Publish, flags, 1, 0, 0).DescriptorCount, Is.EqualTo(count));
        });
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(255)]
    public void WithDescriptors_keeps_NoAck(int count)
    {
        FrameFlags flags = FrameHeader.WithDescriptors(FrameFlags.NoAck, count);
        Assert.Multiple(() =>
        {
            Assert.That(flags.HasFlag(FrameFlags.NoAck), Is.True);
            Assert.That(FrameHeader.DescriptorCountOf(flags), Is.EqualTo(count));
        });
    }

    [Test]
    public void WithDescriptors_replaces_an_earlier_count()
    {
        FrameFlags flags = FrameHeader.WithDescriptors(FrameHeader.WithDescriptors(FrameFlags.NoAck, 255), 3);
        Assert.That(flags, Is.EqualTo(FrameFlags.NoAck | (FrameFlags)0x0300));
        Assert.That(FrameHeader.DescriptorCountOf(FrameHeader.WithDescriptors(flags, 0)), Is.Zero);
        Assert.That(FrameHeader.WithDescriptors(flags, 0), Is.EqualTo(FrameFlags.NoAck));
    }

    [TestCase(-1)]
    [TestCase(256)]
    [TestCase(int.MaxValue)]
    [TestCase(int.MinValue)]
    public void WithDescriptors_rejects_a_count_outside_0_to_255(int count)
        => Assert.That(() => FrameHeader.WithDescriptors(FrameFlags.None, count), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void DescriptorCountOf_ignores_the_low_byte()
    {
        Assert.That(FrameHeader.DescriptorCountOf(FrameFlags.NoAck | FrameFlags.Fatal), Is.Zero);
        Assert.That(FrameHeader.DescriptorCountOf((FrameFlags)0xFFFF), Is.EqualTo(255));
        Assert.That(FrameHeader.DescriptorCountOf((FrameFlags)0x07FE), Is.EqualTo(7));
    }

    [Test]
    public void The_count_is_written_to_the_header_as_the_high_byte_of_the_little_endian_flags()
    {
        byte[] bytes = new byte[FrameHeader.Size];
        new FrameHeader(FrameType.Publish, FrameHeader.WithDescriptors(FrameFlags.NoAck, 200), 1, 0, 0).Write(bytes);
        Assert.That((bytes[6], bytes[7]), Is.EqualTo(((byte)1, (byte)200)));
    }

    // --- FrameReader ------------------------------------------------------------------------------

    [TestCase(FrameType.Publish, 1)]
    [TestCase(FrameType.Publish, 255)]
    [TestCase(FrameType.Data, 1)]
    [TestCase(FrameType.Data, 16)]
    [TestCase(FrameType.Data, 255)]
    public void The_reader_accepts_a_count_on_publish_and_data(FrameType type, int count)
    {
        FrameFlags flags = FrameHeader.WithDescriptors(FrameFlags.None, count);
        byte[] frame = FrameBytes.Frame(type, flags, 12, "files.in"u8, "x"u8);

        FrameParseResult result = FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out int needed, out _, out string? reason);

        Assert.That(result, Is.EqualTo(FrameParseResult.Complete), reason);
        (int Count, FrameFlags Flags, int HeaderCount) seen = (parsed.DescriptorCount, parsed.Flags, parsed.Header.DescriptorCount);
        Assert.Multiple(() =>
        {
            Assert.That(seen.Count, Is.EqualTo(count));
            Assert.That(seen.HeaderCount, Is.EqualTo(count));
            Assert.That(seen.Flags, Is.EqualTo(flags));
            Assert.That(needed, Is.EqualTo(frame.Length));
        });
    }

    [Test]
    public void The_reader_accepts_a_count_together_with_NoAck_on_publish()
    {
        byte[] frame = FrameBytes.Frame(FrameType.Publish, FrameHeader.WithDescriptors(FrameFlags.NoAck, 2), 3, "a"u8, "p"u8);
        Assert.That(FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out _, out _, out string? reason),
            Is.EqualTo(FrameParseResult.Complete), reason);
        (int Count, bool NoAck) seen = (parsed.DescriptorCount, parsed.Flags.HasFlag(FrameFlags.NoAck));
        Assert.That(seen, Is.EqualTo((2, true)));
    }

    [Test]
    public void A_frame_without_descriptors_reports_a_count_of_zero()
    {
        byte[] frame = FrameBytes.Frame(FrameType.Data, FrameFlags.None, 1, "a"u8, "p"u8);
        Assert.That(FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out _, out _, out _), Is.EqualTo(FrameParseResult.Complete));
        Assert.That(parsed.DescriptorCount, Is.Zero);
    }

    private static IEnumerable<TestCaseData> CountOnOtherTypes()
    {
        const ushort one = 0x0100;
        const ushort full = 0xFF00;
        yield return Case("count on Ack", FrameBytes.Raw((byte)FrameType.Ack, flags: one, payloadLength: AckPayload.Size, body: new byte[AckPayload.Size]));
        yield return Case("count on Subscribe", FrameBytes.Raw((byte)FrameType.Subscribe, flags: one, channelLength: 1, body: "a"u8));
        yield return Case("count on Unsubscribe", FrameBytes.Raw((byte)FrameType.Unsubscribe, flags: full, channelLength: 1, body: "a"u8));
        yield return Case("count on Hello", FrameBytes.Raw((byte)FrameType.Hello, flags: one));
        yield return Case("count on Welcome", FrameBytes.Raw((byte)FrameType.Welcome, flags: one));
        yield return Case("count on Error", FrameBytes.Raw((byte)FrameType.Error, flags: one | (ushort)FrameFlags.Fatal, payloadLength: 4, body: new byte[4]));
        yield return Case("count on Goodbye", FrameBytes.Raw((byte)FrameType.Goodbye, flags: one));
        yield return Case("count on Ping", FrameBytes.Raw((byte)FrameType.Ping, flags: full));
        yield return Case("count on Pong", FrameBytes.Raw((byte)FrameType.Pong, flags: one));
        yield return Case("count and NoAck on Data", FrameBytes.Raw((byte)FrameType.Data, flags: one | (ushort)FrameFlags.NoAck, channelLength: 1, body: "a"u8));
    }

    private static TestCaseData Case(string name, byte[] frame) => new TestCaseData(frame).SetArgDisplayNames(name);

    [TestCaseSource(nameof(CountOnOtherTypes))]
    public void The_reader_rejects_a_count_on_other_frame_types_as_InvalidFlags(byte[] frame)
    {
        FrameParseResult result = FrameBytes.Parse(frame, out _, out _, out ProtocolErrorCode error, out string? reason);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(FrameParseResult.Invalid));
            Assert.That(error, Is.EqualTo(ProtocolErrorCode.InvalidFlags));
            Assert.That(reason, Is.Not.Null.And.Not.Empty);
        });
    }

    // --- PublishToData -----------------------------------------------------------------------------

    [TestCase(FrameFlags.None, 0)]
    [TestCase(FrameFlags.NoAck, 0)]
    [TestCase(FrameFlags.None, 1)]
    [TestCase(FrameFlags.NoAck, 7)]
    [TestCase(FrameFlags.NoAck, 255)]
    public void PublishToData_keeps_the_count_and_drops_NoAck(FrameFlags publishFlags, int count)
    {
        byte[] frame = FrameBytes.Frame(FrameType.Publish, FrameHeader.WithDescriptors(publishFlags, count), 77, "files.in"u8, "payload"u8);

        FrameWriter.PublishToData(frame, 1234);

        Assert.That(FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out _, out _, out string? reason),
            Is.EqualTo(FrameParseResult.Complete), reason);
        (FrameType Type, FrameFlags Flags, int Count, ulong Sequence, byte[] Payload) seen =
            (parsed.Type, parsed.Flags, parsed.DescriptorCount, parsed.Sequence, parsed.Payload.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(seen.Type, Is.EqualTo(FrameType.Data));
            Assert.That(seen.Count, Is.EqualTo(count));
            Assert.That(seen.Flags, Is.EqualTo(FrameHeader.WithDescriptors(FrameFlags.None, count)), "NoAck is gone, the count stays");
            Assert.That(seen.Sequence, Is.EqualTo(1234ul));
            Assert.That(seen.Payload, Is.EqualTo("payload"u8.ToArray()));
        });
    }

    // --- AckPayload ---------------------------------------------------------------------------------

    [Test]
    public void Ack_is_24_bytes_and_round_trips_CannotCarryDescriptors()
    {
        var ack = new AckPayload(5, 3, 0x0102030405060708, CannotCarryDescriptors: 2);
        byte[] bytes = new byte[AckPayload.Size];
        bytes.AsSpan().Fill(0xAA); // the reserved field must be written as 0, not left alone
        ack.Write(bytes);

        Assert.Multiple(() =>
        {
            Assert.That(AckPayload.Size, Is.EqualTo(24));
            Assert.That(AckPayload.ShortSize, Is.EqualTo(16));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes), Is.EqualTo(5u));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)), Is.EqualTo(3u));
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), Is.EqualTo(0x0102030405060708ul));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)), Is.EqualTo(2u), "cannot carry descriptors");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)), Is.Zero, "reserved");
        });
        Assert.That(AckPayload.TryRead(bytes, out AckPayload read), Is.True);
        Assert.That(read, Is.EqualTo(ack));
    }

    [Test]
    public void A_16_byte_legacy_ack_is_read_with_CannotCarryDescriptors_0()
    {
        byte[] bytes = new byte[AckPayload.ShortSize];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 99);

        Assert.That(AckPayload.TryRead(bytes, out AckPayload read), Is.True);
        Assert.That(read, Is.EqualTo(new AckPayload(4, 1, 99, 0)));
    }

    [Test]
    public void The_first_16_bytes_of_a_24_byte_ack_read_as_a_legacy_ack()
    {
        byte[] bytes = new byte[AckPayload.Size];
        new AckPayload(9, 8, 7, 6).Write(bytes);
        Assert.That(AckPayload.TryRead(bytes.AsSpan(0, AckPayload.ShortSize), out AckPayload read), Is.True);
        Assert.That(read, Is.EqualTo(new AckPayload(9, 8, 7)));
    }

    [TestCase(0)]
    [TestCase(15)]
    [TestCase(17)]
    [TestCase(20)]
    [TestCase(23)]
    [TestCase(25)]
    [TestCase(32)]
    public void An_ack_of_any_other_length_is_refused(int length)
        => Assert.That(AckPayload.TryRead(new byte[length], out _), Is.False);

    [Test]
    public void An_ack_field_over_int_max_is_read_as_int_max()
    {
        byte[] bytes = new byte[AckPayload.Size];
        bytes.AsSpan(16, 4).Fill(0xFF);
        Assert.That(AckPayload.TryRead(bytes, out AckPayload read), Is.True);
        Assert.That(read.CannotCarryDescriptors, Is.EqualTo(int.MaxValue));
    }

    [Test]
    public void WriteAck_frames_a_24_byte_ack_the_reader_accepts()
    {
        byte[] frame = new byte[FrameHeader.Size + AckPayload.Size];
        int length = FrameWriter.WriteAck(frame, 41, new AckPayload(2, 1, 5, 1));
        Assert.That(length, Is.EqualTo(frame.Length));
        Assert.That(FrameReader.TryParse(frame, ProtocolLimits.Default, out Frame parsed, out _, out _, out string? reason),
            Is.EqualTo(FrameParseResult.Complete), reason);
        Assert.That(parsed.Payload.Length, Is.EqualTo(AckPayload.Size));
        Assert.That(AckPayload.TryRead(parsed.Payload, out AckPayload ack), Is.True);
        Assert.That((parsed.Sequence, ack), Is.EqualTo((41ul, new AckPayload(2, 1, 5, 1))));
    }

    // --- WelcomePayload ------------------------------------------------------------------------------

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(16)]
    [TestCase(253)]
    [TestCase(255)]
    public void Welcome_byte_17_is_the_most_descriptors_per_message(int max)
    {
        var welcome = new WelcomePayload(7, 4096, 1234, TransportKind.Pipe, max);
        byte[] bytes = new byte[WelcomePayload.Size];
        bytes.AsSpan().Fill(0xAA);
        welcome.Write(bytes);

        Assert.Multiple(() =>
        {
            Assert.That(bytes[16], Is.EqualTo((byte)TransportKind.Pipe));
            Assert.That(bytes[17], Is.EqualTo((byte)max));
            Assert.That((bytes[18], bytes[19]), Is.EqualTo(((byte)0, (byte)0)), "reserved");
        });
        Assert.That(WelcomePayload.TryRead(bytes, out WelcomePayload read, out ReadOnlySpan<byte> extension), Is.True);
        Assert.That(extension.IsEmpty, Is.True);
        Assert.That(read, Is.EqualTo(welcome));
        Assert.That(read.MaxDescriptorsPerMessage, Is.EqualTo(max));
    }

    [TestCase(256, 255)]
    [TestCase(int.MaxValue, 255)]
    [TestCase(-1, 0)]
    public void Welcome_clamps_the_descriptor_limit_to_a_byte(int given, int written)
    {
        byte[] bytes = new byte[WelcomePayload.Size];
        new WelcomePayload(1, 2, 3, TransportKind.Socket, given).Write(bytes);
        Assert.That(bytes[17], Is.EqualTo((byte)written));
    }

    [Test]
    public void A_welcome_without_the_field_reads_as_no_descriptors()
    {
        // What a hub from before descriptor passing sent: byte 17 was reserved (0).
        byte[] bytes = new byte[WelcomePayload.Size];
        new WelcomePayload(1, 2, 3, TransportKind.SharedMemory).Write(bytes);
        Assert.That(bytes[17], Is.Zero);
        Assert.That(WelcomePayload.TryRead(bytes, out WelcomePayload read, out _), Is.True);
        Assert.That(read.MaxDescriptorsPerMessage, Is.Zero);
    }

    // --- error codes and transport names --------------------------------------------------------------

    [Test]
    public void The_descriptor_error_codes_have_their_wire_values()
    {
        Assert.Multiple(() =>
        {
            Assert.That((ushort)ProtocolErrorCode.TooManyDescriptors, Is.EqualTo(19));
            Assert.That((ushort)ProtocolErrorCode.DescriptorsLost, Is.EqualTo(20));
            Assert.That((ushort)ProtocolErrorCode.DescriptorsNotSupported, Is.EqualTo(21));
        });
    }

    [TestCase(TransportKind.Socket, "socket")]
    [TestCase(TransportKind.Fifo, "fifo")]
    [TestCase(TransportKind.MessageQueue, "mqueue")]
    [TestCase(TransportKind.SharedMemory, "shm")]
    [TestCase(TransportKind.Pipe, "pipe")]
    [TestCase((TransportKind)42, "42")]
    public void TransportNames_names_every_transport(TransportKind kind, string name)
        => Assert.That(TransportNames.Of(kind), Is.EqualTo(name));
}
