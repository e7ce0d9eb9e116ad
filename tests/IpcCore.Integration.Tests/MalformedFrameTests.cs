using System.Buffers.Binary;
using System.Text;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// Protocol violations from a raw socket: each gets a fatal Error with the right code and a disconnect,
/// while a real subscriber connected before keeps receiving and the hub stays up.
/// </summary>
[TestFixture]
public sealed class MalformedFrameTests : HubTest
{
    private protected override string Tag => "malformed";

    /// <summary>A case: what to send (after the handshake when <c>Handshake</c> is true) and the code expected.</summary>
    private sealed record Case(string Name, bool Handshake, ProtocolErrorCode Expected, Action<RawConnection> Send);

    private static byte[] Header(byte type, ushort flags = 0, ushort channelLength = 0, ushort reserved = 0, uint payloadLength = 0,
        ulong sequence = 1, byte version = FrameHeader.CurrentVersion, uint magic = FrameHeader.Magic)
    {
        byte[] h = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(h, magic);
        h[4] = version;
        h[5] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(8), channelLength);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(10), reserved);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), payloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(16), sequence);
        return h;
    }

    private static readonly Case[] s_cases =
    [
        new("bad magic (before Hello)", false, ProtocolErrorCode.BadMagic,
            c => c.TrySendBytes(Encoding.ASCII.GetBytes("XXXX").Concat(new byte[20]).ToArray())),
        new("bad magic (HTTP request)", true, ProtocolErrorCode.BadMagic,
            c => c.TrySendBytes("GET / HTTP/1.1\r\nHost: hub\r\n\r\n"u8)),
        new("unsupported version", true, ProtocolErrorCode.UnsupportedVersion,
            c => c.TrySendBytes(Header((byte)FrameType.Ping, version: 2))),
        new("unknown type 42", true, ProtocolErrorCode.UnknownType,
            c => c.TrySendBytes(Header(42))),
        new("unknown type 0", true, ProtocolErrorCode.UnknownType,
            c => c.TrySendBytes(Header(0))),
        new("a hub-to-client type (Data) from a client", true, ProtocolErrorCode.UnknownType,
            c => c.SendFrame(FrameType.Data, FrameFlags.None, 1, "weather", "x"u8)),
        new("undefined flag on Subscribe", true, ProtocolErrorCode.InvalidFlags,
            c => c.TrySendBytes([.. Header((byte)FrameType.Subscribe, flags: 0x0004, channelLength: 1), (byte)'a'])),
        new("non-zero reserved field", true, ProtocolErrorCode.InvalidFlags,
            c => c.TrySendBytes(Header((byte)FrameType.Ping, reserved: 1))),
        new("channel length 300", true, ProtocolErrorCode.ChannelTooLong,
            c => c.TrySendBytes(Header((byte)FrameType.Subscribe, channelLength: 300))),
        new("control payload over 4096", true, ProtocolErrorCode.PayloadTooLarge,
            c => c.TrySendBytes(Header((byte)FrameType.Ping, payloadLength: 5000))),
        new("truncated frame, then close", true, ProtocolErrorCode.TruncatedFrame, c =>
        {
            byte[] frame = [.. Header((byte)FrameType.Publish, channelLength: 7, payloadLength: 100), .. "weather"u8, .. new byte[10]];
            c.TrySendBytes(frame);
            c.ShutdownSend();
        }),
        new("invalid channel name on Publish", true, ProtocolErrorCode.InvalidChannel,
            c => c.SendFrame(FrameType.Publish, FrameFlags.None, 1, "bad..name", "x"u8)),
        new("wildcard in a Publish channel", true, ProtocolErrorCode.InvalidChannel,
            c => c.SendFrame(FrameType.Publish, FrameFlags.None, 1, "weather.*", "x"u8)),
        new("invalid pattern on Subscribe", true, ProtocolErrorCode.InvalidChannel,
            c => c.SendFrame(FrameType.Subscribe, FrameFlags.None, 1, "a.>.b", default)),
        new("channel on a Ping", true, ProtocolErrorCode.InvalidChannel,
            c => c.SendFrame(FrameType.Ping, FrameFlags.None, 1, "weather", default)),
        new("Publish before Hello", false, ProtocolErrorCode.HandshakeRequired,
            c => c.SendFrame(FrameType.Publish, FrameFlags.None, 1, "weather", "x"u8)),
        new("Hello twice", true, ProtocolErrorCode.HandshakeRequired,
            c => c.SendHello("again")),
        new("Hello with a malformed payload", false, ProtocolErrorCode.InvalidPayload,
            c => c.SendFrame(FrameType.Hello, FrameFlags.None, 0, string.Empty, [1, 0, 50, 0, (byte)'x'])),
    ];

    [Test]
    public void EachViolation_GetsAFatalErrorAndADisconnect_WhileARealSubscriberKeepsReceiving()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess watcher = Env.StartSubscriber("watch");
        var failures = new List<string>();
        int published = 0;

        foreach (Case c in s_cases)
        {
            try
            {
                using RawConnection raw = c.Handshake
                    ? RawConnection.ConnectAndHandshake(Env.SocketPath, "it-malformed")
                    : RawConnection.Connect(Env.SocketPath);
                c.Send(raw);
                List<ReceivedFrame> frames = raw.ReadUntilClosed(Timeouts.Message);
                if (frames.Count != 1 || frames[0].Type != FrameType.Error || frames[0].ErrorCode != c.Expected || !frames[0].IsFatal)
                {
                    failures.Add($"{c.Name}: expected one fatal Error {c.Expected} and a disconnect; got [{string.Join(", ", frames)}] and a disconnect");
                }
            }
            catch (Exception e) when (e is AssertionException or TimeoutException or IpcException)
            {
                failures.Add($"{c.Name}: {e.Message}");
            }

            if (!hub.IsAlive)
            {
                Assert.Fail($"the hub died after \"{c.Name}\"\n{string.Join("\n", failures)}\n{hub.Child.Describe()}");
            }
            string message = $"after {c.Name}";
            ChildProcess pub = Env.Publish("watch", message);
            published++;
            Env.AssertPublished(pub, 1);
            watcher.WaitForStdoutLine(l => l == $"[watch] {message}", Timeouts.Message,
                $"the subscriber connected before should still receive after \"{c.Name}\"");
        }

        Assert.That(watcher.StdoutLines(), Has.Count.EqualTo(published), watcher.Describe());
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
        Assert.That(failures, Is.Empty, "protocol violations answered wrongly:\n" + string.Join("\n", failures) + "\n" + hub.Child.Describe());
    }

    /// <summary>Hello asking for a transport the hub does not offer (<c>--backends socket,shm</c>: fifo is not).</summary>
    [Test]
    public void HelloForAnUnavailableTransport_GetsUnsupportedTransport()
    {
        HubProcess hub = Env.StartHubNoWait("--backends", "socket,shm");
        hub.Child.WaitForStdoutLine(l => l.Trim() == $"Listening for connections on {Env.SocketPath}", Timeouts.Start, "the hub should listen");
        Assert.That(hub.Child.StdoutLines(), Does.Contain("Backends available: socket, shm"), hub.Child.Describe());
        using RawConnection raw = RawConnection.Connect(Env.SocketPath);
        raw.SendHello("it-fifo", TransportKind.Fifo);
        List<ReceivedFrame> frames = raw.ReadUntilClosed(Timeouts.Message);
        Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
        Assert.That(frames[0].ErrorCode, Is.EqualTo(ProtocolErrorCode.UnsupportedTransport), frames[0].ToString());
        Assert.That(frames[0].IsFatal, Is.True, frames[0].ToString());
        Assert.That(Directory.EnumerateFileSystemEntries(Env.Directory, "ipchub.*"), Is.Empty, "no FIFOs for a refused client");
    }

    /// <summary>Hello naming a transport number no hub knows (6) is an invalid payload.</summary>
    [Test]
    public void HelloForAnUnknownTransportNumber_GetsInvalidPayload()
    {
        Env.StartHub();
        using RawConnection raw = RawConnection.Connect(Env.SocketPath);
        byte[] payload = [6, 0, 7, 0, .. "it-what"u8];
        raw.SendFrame(FrameType.Hello, FrameFlags.None, 0, string.Empty, payload);
        List<ReceivedFrame> frames = raw.ReadUntilClosed(Timeouts.Message);
        Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
        Assert.That(frames[0].ErrorCode, Is.EqualTo(ProtocolErrorCode.InvalidPayload), frames[0].ToString());
        Assert.That(frames[0].IsFatal, Is.True, frames[0].ToString());
    }

    /// <summary>A Ping is answered with a Pong carrying the same sequence (liveness of the raw path).</summary>
    [Test]
    public void Ping_IsAnsweredWithPong()
    {
        Env.StartHub();
        using RawConnection raw = RawConnection.ConnectAndHandshake(Env.SocketPath);
        raw.SendFrame(FrameType.Ping, FrameFlags.None, 12345, string.Empty, default);
        ReceivedFrame? pong = raw.ReadFrame(Timeouts.Message);
        Assert.That(pong?.Type, Is.EqualTo(FrameType.Pong), pong?.ToString() ?? "connection closed");
        Assert.That(pong!.Sequence, Is.EqualTo(12345UL));
    }
}
