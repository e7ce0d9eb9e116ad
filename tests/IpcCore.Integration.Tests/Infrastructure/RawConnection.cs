using System.Diagnostics;
using System.Text;
using IpcCore.Native;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>A frame received from the hub, copied out of the receive buffer.</summary>
internal sealed record ReceivedFrame(FrameType Type, FrameFlags Flags, ulong Sequence, string Channel, byte[] Payload)
{
    public bool IsFatal => (Flags & FrameFlags.Fatal) != 0;

    /// <summary>The code of an Error frame.</summary>
    public ProtocolErrorCode ErrorCode
        => Type == FrameType.Error && ErrorPayload.TryRead(Payload, out var code, out _) ? code : 0;

    public string ErrorReason
        => Type == FrameType.Error && ErrorPayload.TryRead(Payload, out _, out var reason) ? reason : string.Empty;

    public AckPayload Ack
        => Type == FrameType.Ack && AckPayload.TryRead(Payload, out var ack) ? ack : throw new InvalidOperationException($"not an Ack: {this}");

    public override string ToString() => Type switch
    {
        FrameType.Error => $"Error(seq {Sequence}, {ErrorCode}, fatal={IsFatal}, \"{ErrorReason}\")",
        FrameType.Ack => $"Ack(seq {Sequence}, {Ack})",
        FrameType.Data => $"Data('{Channel}' #{Sequence}, {Payload.Length} bytes)",
        _ => $"{Type}(flags {Flags}, seq {Sequence}, channel '{Channel}', {Payload.Length} bytes)",
    };
}

/// <summary>
/// A hand-driven connection to the hub's socket, for the protocol tests: it sends arbitrary bytes and
/// frames and reads the hub's frames with bounded waits.
/// </summary>
internal sealed class RawConnection : IDisposable
{
    private static readonly ProtocolLimits s_readLimits = new(64 * 1024 * 1024);

    private readonly UnixSocket _socket;
    private readonly List<SafeFdHandle> _descriptors = [];
    private byte[] _buffer = new byte[256 * 1024];
    private int _length;
    private bool _ended;

    private RawConnection(UnixSocket socket) => _socket = socket;

    /// <summary>The Welcome the hub sent (after <see cref="Handshake"/>).</summary>
    public WelcomePayload Welcome { get; private set; }

    /// <summary>Connects to <paramref name="socketPath"/>; <paramref name="receiveBuffer"/> sets SO_RCVBUF first when given.</summary>
    public static RawConnection Connect(string socketPath, int? receiveBuffer = null)
    {
        var socket = UnixSocket.CreateStream();
        try
        {
            if (receiveBuffer is int size)
            {
                socket.ReceiveBufferSize = size;
            }
            socket.Connect(socketPath);
            return new RawConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects and does Hello/Welcome.</summary>
    public static RawConnection ConnectAndHandshake(string socketPath, string name = "it-raw", int? receiveBuffer = null)
    {
        RawConnection connection = Connect(socketPath, receiveBuffer);
        try
        {
            connection.Handshake(name);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The transport-specific bytes that followed Welcome's fixed part (after <see cref="Handshake"/>).</summary>
    public byte[] WelcomeExtension { get; private set; } = [];

    public void Handshake(string name = "it-raw", TransportKind transport = TransportKind.Socket)
    {
        SendHello(name, transport);
        ReceivedFrame welcome = ReadFrame(Timeouts.Message) ?? throw new AssertionException("the hub closed the connection instead of answering Hello");
        Assert.That(welcome.Type, Is.EqualTo(FrameType.Welcome), $"the answer to Hello: {welcome}");
        Assert.That(WelcomePayload.TryRead(welcome.Payload, out var payload, out ReadOnlySpan<byte> extension), Is.True, "the Welcome payload's layout");
        Welcome = payload;
        WelcomeExtension = extension.ToArray();
    }

    public void SendHello(string name = "it-raw", TransportKind transport = TransportKind.Socket)
    {
        var hello = new HelloPayload(transport, name);
        byte[] payload = new byte[hello.Length];
        hello.Write(payload);
        SendFrame(FrameType.Hello, FrameFlags.None, 0, string.Empty, payload);
    }

    public void SendFrame(FrameType type, FrameFlags flags, ulong sequence, string channel, ReadOnlySpan<byte> payload)
    {
        byte[] channelBytes = Encoding.UTF8.GetBytes(channel);
        byte[] frame = new byte[FrameWriter.FrameLength(channelBytes.Length, payload.Length)];
        FrameWriter.Write(frame, type, flags, sequence, channelBytes, payload);
        SendBytes(frame);
    }

    public void Subscribe(ulong requestId, string pattern) => SendFrame(FrameType.Subscribe, FrameFlags.None, requestId, pattern, default);

    public void Publish(ulong requestId, string channel, ReadOnlySpan<byte> message, bool noAck = false)
        => SendFrame(FrameType.Publish, noAck ? FrameFlags.NoAck : FrameFlags.None, requestId, channel, message);

    /// <summary>Subscribes and waits for the Ack.</summary>
    public void SubscribeAndWait(ulong requestId, string pattern)
    {
        Subscribe(requestId, pattern);
        ReceivedFrame ack = ReadFrame(Timeouts.Message) ?? throw new AssertionException($"the hub closed the connection instead of acking Subscribe '{pattern}'");
        Assert.That(ack.Type == FrameType.Ack && ack.Sequence == requestId, Is.True, $"the answer to Subscribe '{pattern}': {ack}");
    }

    /// <summary>Sends bytes as they are (blocking until the kernel takes them all).</summary>
    public void SendBytes(ReadOnlySpan<byte> bytes) => _socket.SendAll(bytes);

    /// <summary>Sends what the hub will still take; stops quietly when it has closed the connection (EPIPE, ECONNRESET).</summary>
    public bool TrySendBytes(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _socket.SendAll(bytes);
            return true;
        }
        catch (IpcException e) when (e.ErrorNumber is (int)Errno.EPIPE or (int)Errno.ECONNRESET)
        {
            return false;
        }
    }

    /// <summary>Half-closes: the hub reads end of stream, we can still read.</summary>
    public void ShutdownSend() => _socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

    /// <summary>The next frame, or null when the hub closed the connection; fails after <paramref name="timeout"/>.</summary>
    public ReceivedFrame? ReadFrame(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_length > 0)
            {
                FrameParseResult result = FrameReader.TryParse(_buffer.AsSpan(0, _length), s_readLimits, out Frame frame, out int needed,
                    out ProtocolErrorCode error, out string? reason);
                if (result == FrameParseResult.Complete)
                {
                    var received = new ReceivedFrame(frame.Type, frame.Flags, frame.Sequence,
                        Encoding.UTF8.GetString(frame.Channel), frame.Payload.ToArray());
                    _buffer.AsSpan(needed, _length - needed).CopyTo(_buffer);
                    _length -= needed;
                    return received;
                }
                if (result == FrameParseResult.Invalid)
                {
                    throw new AssertionException($"the hub sent an invalid frame: {error}: {reason}");
                }
                if (needed > _buffer.Length)
                {
                    Array.Resize(ref _buffer, needed);
                }
            }
            if (_ended)
            {
                if (_length > 0)
                {
                    throw new AssertionException($"the hub closed the connection inside a frame ({_length} bytes of it were received)");
                }
                return null;
            }
            TimeSpan left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no frame from the hub within {timeout.TotalSeconds:0} s ({_length} bytes of an incomplete frame buffered)");
            }
            if (_length == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            if (FileDescriptor.Poll(_socket.Handle, PollEvents.POLLIN, (int)Math.Ceiling(left.TotalMilliseconds)) == 0)
            {
                continue;
            }
            // Welcome may carry descriptors (the pipe ends, the shm doorbell): take them, so the message is not lost.
            IoResult read = _socket.TryReceiveWithDescriptors(_buffer.AsSpan(_length), _descriptors);
            switch (read.Status)
            {
                case IoStatus.Success:
                    _length += read.BytesTransferred;
                    break;
                case IoStatus.EndOfStream:
                case IoStatus.PeerClosed:
                    _ended = true;
                    break;
            }
        }
    }

    /// <summary>Reads frames until the hub closes the connection; returns them. Fails if it stays open past <paramref name="timeout"/>.</summary>
    public List<ReceivedFrame> ReadUntilClosed(TimeSpan timeout)
    {
        var frames = new List<ReceivedFrame>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            TimeSpan left = timeout - clock.Elapsed;
            ReceivedFrame? frame;
            try
            {
                frame = ReadFrame(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            }
            catch (TimeoutException)
            {
                throw new AssertionException($"the hub did not close the connection within {timeout.TotalSeconds:0} s; frames so far: {string.Join(", ", frames.TakeLast(5))}");
            }
            if (frame is null)
            {
                return frames;
            }
            frames.Add(frame);
        }
    }

    /// <summary>Reads frames until none arrives for <paramref name="quiet"/> (or the connection closes).</summary>
    public List<ReceivedFrame> ReadUntilQuiet(TimeSpan quiet)
    {
        var frames = new List<ReceivedFrame>();
        while (true)
        {
            try
            {
                ReceivedFrame? frame = ReadFrame(quiet);
                if (frame is null)
                {
                    return frames;
                }
                frames.Add(frame);
            }
            catch (TimeoutException)
            {
                return frames;
            }
        }
    }

    /// <summary>The descriptors the hub sent (with Welcome: a pipe client's ends, a shared-memory client's doorbell); closed with the connection.</summary>
    public IReadOnlyList<SafeFdHandle> ReceivedDescriptors => _descriptors;

    public void Dispose()
    {
        _socket.Dispose();
        foreach (SafeFdHandle fd in _descriptors)
        {
            fd.Dispose();
        }
    }
}
