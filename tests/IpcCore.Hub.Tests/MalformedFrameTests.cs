using System.Text;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>
/// Every protocol violation gets a fatal Error with its code, then a disconnect of that client only: a
/// subscriber and a publisher connected before keep working.
/// </summary>
[TestFixture]
public sealed class MalformedFrameTests
{
    public sealed class Violation
    {
        internal Violation(string name, bool handshake, ProtocolErrorCode expected, Action<RawClient> send)
        {
            Name = name;
            Handshake = handshake;
            Expected = expected;
            Send = send;
        }

        public string Name { get; }

        public bool Handshake { get; }

        public ProtocolErrorCode Expected { get; }

        internal Action<RawClient> Send { get; }

        public override string ToString() => Name;
    }

    private static IEnumerable<Violation> Cases()
    {
        yield return new("bad magic before Hello", false, ProtocolErrorCode.BadMagic,
            c => c.TrySend([.. "XXXX"u8, .. new byte[20]]));
        yield return new("bad magic after Hello (text)", true, ProtocolErrorCode.BadMagic,
            c => c.TrySend("GET / HTTP/1.1\r\n\r\n"u8));
        yield return new("bad magic, first byte only", true, ProtocolErrorCode.BadMagic,
            c => c.TrySend("X"u8));
        yield return new("unsupported version", true, ProtocolErrorCode.UnsupportedVersion,
            c => c.TrySend(RawClient.Header((byte)FrameType.Ping, version: 2)));
        yield return new("unknown type 42", true, ProtocolErrorCode.UnknownType,
            c => c.TrySend(RawClient.Header(42)));
        yield return new("a Data frame from a client", true, ProtocolErrorCode.UnknownType,
            c => c.TrySend(RawClient.Frame(FrameType.Data, 1, "x", "y"u8)));
        yield return new("undefined flags", true, ProtocolErrorCode.InvalidFlags,
            c => c.TrySend([.. RawClient.Header((byte)FrameType.Subscribe, flags: 0x0004, channelLength: 1), (byte)'a']));
        yield return new("channel length 300 (header only)", true, ProtocolErrorCode.ChannelTooLong,
            c => c.TrySend(RawClient.Header((byte)FrameType.Publish, channelLength: 300, payloadLength: 1)));
        yield return new("control payload over 4096", true, ProtocolErrorCode.PayloadTooLarge,
            c => c.TrySend(RawClient.Header((byte)FrameType.Ping, payloadLength: 5000)));
        yield return new("invalid channel name", true, ProtocolErrorCode.InvalidChannel,
            c => c.TrySend(RawClient.Frame(FrameType.Publish, 1, "bad..name", "x"u8)));
        yield return new("wildcard in a Publish channel", true, ProtocolErrorCode.InvalidChannel,
            c => c.TrySend(RawClient.Frame(FrameType.Publish, 1, "a.*", "x"u8)));
        yield return new("Publish before Hello", false, ProtocolErrorCode.HandshakeRequired,
            c => c.TrySend(RawClient.Frame(FrameType.Publish, 1, "weather", "x"u8)));
        yield return new("oversized Publish before Hello", false, ProtocolErrorCode.HandshakeRequired,
            c => c.TrySend(RawClient.Header((byte)FrameType.Publish, channelLength: 1, payloadLength: 100_000_000)));
        yield return new("Hello twice", true, ProtocolErrorCode.HandshakeRequired,
            c => c.SendHello("again"));
        yield return new("malformed Hello payload", false, ProtocolErrorCode.InvalidPayload,
            c => c.TrySend(RawClient.Frame(FrameType.Hello, 0, string.Empty, [1, 0, 50, 0, (byte)'x'])));
        yield return new("Hello with an unknown transport", false, ProtocolErrorCode.InvalidPayload,
            c => c.TrySend(RawClient.Frame(FrameType.Hello, 0, string.Empty, [9, 0, 1, 0, (byte)'x'])));
        yield return new("Subscribe with a payload", true, ProtocolErrorCode.InvalidPayload,
            c => c.TrySend(RawClient.Frame(FrameType.Subscribe, 1, "a", "x"u8)));
        yield return new("truncated frame, then end of stream", true, ProtocolErrorCode.TruncatedFrame, c =>
        {
            c.TrySend([.. RawClient.Header((byte)FrameType.Publish, channelLength: 7, payloadLength: 100), .. "weather"u8, .. new byte[10]]);
            c.ShutdownSend();
        });
    }

    [TestCaseSource(nameof(Cases))]
    public void Violation_GetsAFatalError_AndOnlyThatClientIsDisconnected(Violation c)
    {
        using InProcessHub hub = InProcessHub.Start("bad");
        using RawClient watcher = RawClient.ConnectAndHandshake(hub.SocketPath, "watcher");
        using RawClient publisher = RawClient.ConnectAndHandshake(hub.SocketPath, "publisher");
        watcher.Subscribe("watch", 1);

        using (RawClient offender = c.Handshake ? RawClient.ConnectAndHandshake(hub.SocketPath, "offender") : RawClient.Connect(hub.SocketPath))
        {
            c.Send(offender);
            List<ReceivedFrame> frames = offender.ReadUntilClosed();
            Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
            Assert.That(frames[0].Type, Is.EqualTo(FrameType.Error), frames[0].ToString());
            Assert.That(frames[0].ErrorCode, Is.EqualTo(c.Expected), frames[0].ToString());
            Assert.That(frames[0].IsFatal, Is.True, frames[0].ToString());
            Assert.That(frames[0].ErrorReason, Is.Not.Empty);
        }

        Assert.That(publisher.PublishAndAck("watch", "still here", 2), Is.EqualTo(new AckPayload(1, 0, 1)));
        Assert.That(watcher.Expect(FrameType.Data).Text, Is.EqualTo("still here"));
        watcher.AssertAlive();
    }

    [Test]
    public void A_connection_that_never_sends_Hello_is_refused_after_the_handshake_timeout()
    {
        using InProcessHub hub = InProcessHub.Start("nohello", o => o with { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        using RawClient watcher = RawClient.ConnectAndHandshake(hub.SocketPath, "watcher");
        watcher.Subscribe("watch", 1);

        using (RawClient idle = RawClient.Connect(hub.SocketPath))
        {
            List<ReceivedFrame> frames = idle.ReadUntilClosed();
            Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
            Assert.That(frames[0].ErrorCode, Is.EqualTo(ProtocolErrorCode.HandshakeRequired), frames[0].ToString());
            Assert.That(frames[0].IsFatal, Is.True);
            Assert.That(frames[0].ErrorReason, Does.Contain("no Hello within 0.3 s"));
        }

        // A client that said Hello in time is not affected, however long it stays quiet.
        Thread.Sleep(500);
        watcher.AssertAlive();
    }

    [Test]
    public void OversizedPublish_GetsANonFatalPayloadTooLarge_IsDiscardedAsItArrives_AndTheConnectionStaysUsable()
    {
        const int Limit = 64 * 1024;
        using InProcessHub hub = InProcessHub.Start("oversize", o => o with { MaxMessageSize = Limit });
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub");
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        sub.Subscribe("big", 1);

        // 20 MiB claimed and sent: far beyond the limit and beyond any buffer the hub keeps per client.
        const int Size = 20 * 1024 * 1024;
        byte[] header = RawClient.Header((byte)FrameType.Publish, channelLength: 3, payloadLength: Size, sequence: 77);
        var sender = Background.Run(() =>
        {
            pub.Send([.. header, .. "big"u8]);
            byte[] chunk = new byte[256 * 1024];
            for (int sent = 0; sent < Size; sent += chunk.Length)
            {
                pub.Send(chunk.AsSpan(0, Math.Min(chunk.Length, Size - sent)));
            }
            pub.Publish("big", "small one"u8, 78);
        });
        ReceivedFrame error = pub.ExpectError(ProtocolErrorCode.PayloadTooLarge, fatal: false);
        Assert.That(error.Sequence, Is.EqualTo(77UL), "the error names the request");
        Assert.That(sender.Wait(TimeSpan.FromSeconds(30)), Is.True, "the hub kept reading (and discarding) the oversized message");
        Assert.That(pub.ExpectAck(78), Is.EqualTo(new AckPayload(1, 0, 1)), "the next message is routed as the channel's first");
        Assert.That(sub.Expect(FrameType.Data).Text, Is.EqualTo("small one"));
    }

    [Test]
    public void ClaimedLengths_AreNeverReserved_BeforeTheyAreValidated()
    {
        using InProcessHub hub = InProcessHub.Start("claims", o => o with { MaxMessageSize = 1024 });
        using RawClient client = RawClient.ConnectAndHandshake(hub.SocketPath, "c");
        // A header claiming 4 GiB - 1 of payload on a Publish, and nothing after it: the hub must answer at once.
        client.Send(RawClient.Header((byte)FrameType.Publish, channelLength: 1, payloadLength: uint.MaxValue, sequence: 5));
        ReceivedFrame error = client.Expect(FrameType.Error);
        Assert.That(error.ErrorCode, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge), error.ToString());
        Assert.That(Encoding.UTF8.GetString(error.Payload), Does.Contain("1024"));
    }
}
