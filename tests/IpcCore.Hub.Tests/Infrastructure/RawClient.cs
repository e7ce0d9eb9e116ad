using System.Globalization;
using System.Text;
using IpcCore.Native;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests.Infrastructure;

/// <summary>A frame the hub sent, copied out of the receive buffer.</summary>
internal sealed record ReceivedFrame(FrameType Type, FrameFlags Flags, ulong Sequence, string Channel, byte[] Payload)
{
    public bool IsFatal => (Flags & FrameFlags.Fatal) != 0;

    public ProtocolErrorCode ErrorCode => Type == FrameType.Error && ErrorPayload.TryRead(Payload, out ProtocolErrorCode code, out _) ? code : 0;

    public string ErrorReason => Type == FrameType.Error && ErrorPayload.TryRead(Payload, out _, out string reason) ? reason : string.Empty;

    public AckPayload Ack => AckPayload.TryRead(Payload, out AckPayload ack) ? ack : throw new AssertionException($"not an Ack: {this}");

    public string Text => Encoding.UTF8.GetString(Payload);

    public override string ToString() => Type switch
    {
        FrameType.Error => string.Create(CultureInfo.InvariantCulture, $"Error({ErrorCode}{(IsFatal ? ", fatal" : "")}, seq {Sequence}: {ErrorReason})"),
        FrameType.Ack => string.Create(CultureInfo.InvariantCulture, $"Ack(seq {Sequence}, {Ack})"),
        FrameType.Data => string.Create(CultureInfo.InvariantCulture, $"Data({Channel} #{Sequence}, {Payload.Length} bytes)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Type}(seq {Sequence}, {Payload.Length} bytes)"),
    };
}

/// <summary>
/// A client that speaks the wire protocol by hand over a blocking <see cref="UnixSocket"/>: it sends exactly
/// the bytes a test wants (valid or not) and reads frames with a timeout, so a hub that does not answer
/// fails the test instead of hanging it.
/// </summary>
internal sealed class RawClient : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly ProtocolLimits s_readLimits = new(64 * 1024 * 1024);

    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _closed;

    private RawClient(UnixSocket socket) => Socket = socket;

    public UnixSocket Socket { get; }

    /// <summary>The Welcome this client got (after <see cref="ConnectAndHandshake"/>).</summary>
    public WelcomePayload Welcome { get; private set; }

    public static RawClient Connect(string socketPath, int? receiveBuffer = null)
    {
        UnixSocket socket = UnixSocket.CreateStream();
        try
        {
            if (receiveBuffer is int size)
            {
                socket.ReceiveBufferSize = size;
            }
            socket.Connect(socketPath);
            return new RawClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static RawClient ConnectAndHandshake(string socketPath, string name = "raw", int? receiveBuffer = null)
    {
        RawClient client = Connect(socketPath, receiveBuffer);
        try
        {
            client.SendHello(name);
            ReceivedFrame welcome = client.Expect(FrameType.Welcome);
            Assert.That(WelcomePayload.TryRead(welcome.Payload, out WelcomePayload w, out _), Is.True, "Welcome payload");
            client.Welcome = w;
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public static byte[] Header(byte type, ushort flags = 0, ushort channelLength = 0, ushort reserved = 0, uint payloadLength = 0,
        ulong sequence = 1, byte version = FrameHeader.CurrentVersion, uint magic = FrameHeader.Magic)
    {
        byte[] h = new byte[FrameHeader.Size];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(h, magic);
        h[4] = version;
        h[5] = type;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), flags);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(8), channelLength);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(10), reserved);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), payloadLength);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(16), sequence);
        return h;
    }

    public static byte[] Frame(FrameType type, ulong sequence, string channel, ReadOnlySpan<byte> payload, FrameFlags flags = FrameFlags.None)
    {
        byte[] channelBytes = Encoding.UTF8.GetBytes(channel);
        byte[] frame = new byte[FrameWriter.FrameLength(channelBytes.Length, payload.Length)];
        FrameWriter.Write(frame, type, flags, sequence, channelBytes, payload);
        return frame;
    }

    public void Send(ReadOnlySpan<byte> bytes) => Socket.SendAll(bytes);

    /// <summary>Sends and ignores a closed peer (for tests whose point is that the hub closes the connection).</summary>
    public void TrySend(ReadOnlySpan<byte> bytes)
    {
        try
        {
            Socket.SendAll(bytes);
        }
        catch (IpcException)
        {
            // EPIPE/ECONNRESET: the hub closed first; reading shows why.
        }
    }

    public void SendFrame(FrameType type, ulong sequence, string channel, ReadOnlySpan<byte> payload, FrameFlags flags = FrameFlags.None)
        => Send(Frame(type, sequence, channel, payload, flags));

    public void SendHello(string name, TransportKind transport = TransportKind.Socket)
    {
        var hello = new HelloPayload(transport, name);
        byte[] payload = new byte[hello.Length];
        hello.Write(payload);
        SendFrame(FrameType.Hello, 0, string.Empty, payload);
    }

    public AckPayload Subscribe(string pattern, ulong requestId)
    {
        SendFrame(FrameType.Subscribe, requestId, pattern, default);
        return ExpectAck(requestId);
    }

    public void Publish(string channel, ReadOnlySpan<byte> payload, ulong requestId, bool noAck = false)
        => SendFrame(FrameType.Publish, requestId, channel, payload, noAck ? FrameFlags.NoAck : FrameFlags.None);

    public AckPayload PublishAndAck(string channel, string text, ulong requestId)
    {
        Publish(channel, Encoding.UTF8.GetBytes(text), requestId);
        return ExpectAck(requestId);
    }

    public void ShutdownSend() => Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

    /// <summary>The next frame; null when the hub closed the connection; throws after <paramref name="timeout"/>.</summary>
    public ReceivedFrame? ReadFrame(TimeSpan? timeout = null)
    {
        long deadline = Environment.TickCount64 + (long)(timeout ?? Timeout).TotalMilliseconds;
        while (true)
        {
            if (_end > _start)
            {
                FrameParseResult result = FrameReader.TryParse(_buffer.AsSpan(_start, _end - _start), s_readLimits, out Frame frame,
                    out int needed, out ProtocolErrorCode code, out string? reason);
                if (result == FrameParseResult.Complete)
                {
                    var received = new ReceivedFrame(frame.Type, frame.Flags, frame.Sequence, Encoding.UTF8.GetString(frame.Channel),
                        frame.Payload.ToArray());
                    _start += needed;
                    return received;
                }
                if (result == FrameParseResult.Invalid)
                {
                    throw new AssertionException($"the hub sent an invalid frame: {code}: {reason}");
                }
                if (needed > _buffer.Length - _start)
                {
                    byte[] larger = new byte[Math.Max(needed, _buffer.Length)];
                    _buffer.AsSpan(_start, _end - _start).CopyTo(larger);
                    _end -= _start;
                    _start = 0;
                    _buffer = larger;
                }
            }
            if (_closed)
            {
                if (_end > _start)
                {
                    throw new AssertionException($"the hub closed the connection inside a frame ({_end - _start} bytes left)");
                }
                return null;
            }
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            if (FileDescriptor.Poll(Socket.Handle, PollEvents.POLLIN, left) == 0)
            {
                throw new TimeoutException($"no frame from the hub within {(timeout ?? Timeout).TotalSeconds} s");
            }
            IoResult io = Socket.TryReceiveStream(_buffer.AsSpan(_end), Descriptors);
            if (io.IsSuccess)
            {
                _end += io.BytesTransferred;
            }
            else if (io.Status is IoStatus.EndOfStream or IoStatus.PeerClosed)
            {
                _closed = true;
            }
        }
    }

    /// <summary>Whether a frame arrives within <paramref name="wait"/> (false: nothing came).</summary>
    public bool TryReadFrame(TimeSpan wait, out ReceivedFrame? frame)
    {
        try
        {
            frame = ReadFrame(wait);
            return true;
        }
        catch (TimeoutException)
        {
            frame = null;
            return false;
        }
    }

    /// <summary>Every frame until the hub closes the connection.</summary>
    public List<ReceivedFrame> ReadUntilClosed(TimeSpan? timeout = null)
    {
        var frames = new List<ReceivedFrame>();
        while (ReadFrame(timeout) is { } frame)
        {
            frames.Add(frame);
        }
        return frames;
    }

    public ReceivedFrame Expect(FrameType type, TimeSpan? timeout = null)
    {
        ReceivedFrame? frame = ReadFrame(timeout);
        Assert.That(frame, Is.Not.Null, $"expected {type}, the hub closed the connection");
        Assert.That(frame!.Type, Is.EqualTo(type), $"expected {type}, got {frame}");
        return frame;
    }

    public AckPayload ExpectAck(ulong requestId, TimeSpan? timeout = null)
    {
        ReceivedFrame frame = Expect(FrameType.Ack, timeout);
        Assert.That(frame.Sequence, Is.EqualTo(requestId), $"Ack of the wrong request: {frame}");
        return frame.Ack;
    }

    public ReceivedFrame ExpectError(ProtocolErrorCode code, bool fatal, TimeSpan? timeout = null)
    {
        ReceivedFrame frame = Expect(FrameType.Error, timeout);
        Assert.That(frame.ErrorCode, Is.EqualTo(code), frame.ToString());
        Assert.That(frame.IsFatal, Is.EqualTo(fatal), frame.ToString());
        return frame;
    }

    /// <summary>Checks the connection still works: a Ping is answered with a Pong.</summary>
    public void AssertAlive(ulong sequence = 4242)
    {
        SendFrame(FrameType.Ping, sequence, string.Empty, default);
        ReceivedFrame pong = Expect(FrameType.Pong);
        Assert.That(pong.Sequence, Is.EqualTo(sequence));
    }

    /// <summary>The descriptor batches that came with the frames read so far (owned here until taken).</summary>
    public DescriptorInbox Descriptors { get; } = new();

    public void Dispose()
    {
        Socket.Dispose();
        Descriptors.Dispose();
    }
}
