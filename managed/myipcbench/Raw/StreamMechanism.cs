using System.Globalization;
using IpcCore;
using IpcCore.Native;
using IpcCore.Protocol;

namespace MyIpcBench.Raw;

/// <summary>
/// The byte-stream mechanisms: an anonymous pipe (the orchestrator's pipes as stdio), a FIFO pair
/// (DIR/PREFIX.ping, DIR/PREFIX.pong) or one UNIX stream socket (DIR/PREFIX.sock). Plain blocking
/// reads and writes; a dead peer shows as end of stream or EPIPE.
/// </summary>
internal sealed class StreamMechanism : RawMechanism
{
    private const int StdIn = 0;
    private const int StdOut = 1;

    private PipeEnd? _ping;
    private PipeEnd? _pong;
    private UnixSocket? _listener;
    private UnixSocket? _connection;

    public StreamMechanism(RawOptions options) : base(options)
    {
    }

    private string PingPath => Options.FilePath(".ping");

    private string PongPath => Options.FilePath(".pong");

    private string SocketPath => Options.FilePath(".sock");

    public override void OnFirstMessage()
    {
        if (Options.Mechanism == TransportKind.Fifo && Options.HasPong)
        {
            // The sender opened its pong reader before its first ping, so a non-blocking writer opens now
            // (a blocking open done earlier could have waited forever for a sender that never came).
            _pong = RetryWhileMissing($"open('{PongPath}') for writing", () => Fifo.OpenWriter(PongPath, nonBlocking: true),
                ex => IsErrno(ex, Errno.ENXIO));
            _pong.NonBlocking = false;
            Output = new StreamSink(new PipeByteStream(_pong, awaitWriter: false));
        }
        if (Options.Mechanism == TransportKind.Socket)
        {
            _listener?.Dispose();
            _listener = null;
        }
        base.OnFirstMessage();
    }

    public override void RemoveNames()
    {
        switch (Options.Mechanism)
        {
            case TransportKind.Fifo:
                Fifo.TryUnlink(PingPath);
                Fifo.TryUnlink(PongPath);
                break;
            case TransportKind.Socket:
                File.Delete(SocketPath); // unlink(2); no error when it is already gone
                break;
        }
    }

    protected override void OpenReceiver()
    {
        switch (Options.Mechanism)
        {
            case TransportKind.Pipe:
                _ping = StandardPipe(StdIn, FileAccess.Read);
                Input = new StreamSource(new PipeByteStream(_ping, awaitWriter: false), Options.MessageSize);
                if (Options.HasPong)
                {
                    _pong = StandardPipe(StdOut, FileAccess.Write);
                    Output = new StreamSink(new PipeByteStream(_pong, awaitWriter: false));
                }
                break;
            case TransportKind.Fifo:
                // pong first: once ping exists, the sender may rely on both.
                if (Options.HasPong)
                {
                    Fifo.Create(PongPath);
                }
                Fifo.Create(PingPath);
                // Non-blocking, so opening does not wait for a writer; the first read waits, boundedly.
                _ping = Fifo.OpenReader(PingPath, nonBlocking: true);
                Input = new StreamSource(new PipeByteStream(_ping, awaitWriter: true), Options.MessageSize);
                break;
            case TransportKind.Socket:
                _listener = UnixSocket.CreateStream(nonBlocking: true);
                _listener.Bind(SocketPath);
                _listener.Listen(1);
                if (!Readiness.WaitReadable(_listener.Handle, RawTimeouts.Peer))
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"accept('{SocketPath}'): the sender did not connect within {RawTimeouts.Peer.TotalSeconds:F0} s"));
                }
                _connection = _listener.Accept(nonBlocking: false);
                var stream = new SocketByteStream(_connection);
                Input = new StreamSource(stream, Options.MessageSize);
                Output = Options.HasPong ? new StreamSink(stream) : null;
                break;
            default:
                throw new InvalidOperationException($"{Options.Mechanism} is not a stream mechanism.");
        }
    }

    protected override void OpenSender()
    {
        switch (Options.Mechanism)
        {
            case TransportKind.Pipe:
                _ping = StandardPipe(StdOut, FileAccess.Write);
                Output = new StreamSink(new PipeByteStream(_ping, awaitWriter: false));
                if (Options.HasPong)
                {
                    _pong = StandardPipe(StdIn, FileAccess.Read);
                    Input = new StreamSource(new PipeByteStream(_pong, awaitWriter: false), Options.MessageSize);
                }
                break;
            case TransportKind.Fifo:
                // Non-blocking: ENXIO (no reader yet) and ENOENT are retried instead of blocking forever.
                _ping = RetryWhileMissing($"open('{PingPath}') for writing", () => Fifo.OpenWriter(PingPath, nonBlocking: true),
                    ex => IsErrno(ex, Errno.ENOENT, Errno.ENXIO));
                _ping.NonBlocking = false;
                Output = new StreamSink(new PipeByteStream(_ping, awaitWriter: false));
                if (Options.HasPong)
                {
                    // Open before the first ping: the receiver opens its writer when that ping arrives.
                    _pong = Fifo.OpenReader(PongPath, nonBlocking: true);
                    Input = new StreamSource(new PipeByteStream(_pong, awaitWriter: true), Options.MessageSize);
                }
                break;
            case TransportKind.Socket:
                _connection = RetryWhileMissing($"connect('{SocketPath}')", Connect, ex => IsErrno(ex, Errno.ENOENT, Errno.ECONNREFUSED));
                var stream = new SocketByteStream(_connection);
                Output = new StreamSink(stream);
                Input = Options.HasPong ? new StreamSource(stream, Options.MessageSize) : null;
                break;
            default:
                throw new InvalidOperationException($"{Options.Mechanism} is not a stream mechanism.");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ping?.Dispose();
            _pong?.Dispose();
            _connection?.Dispose();
            _listener?.Dispose();
        }
    }

    private UnixSocket Connect()
    {
        // A fresh socket per attempt: a failed connect leaves nothing to reuse.
        UnixSocket socket = UnixSocket.CreateStream();
        try
        {
            socket.Connect(SocketPath);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>stdin or stdout as a pipe end, not owned: the orchestrator's pipe, left open for the runtime.</summary>
    private static PipeEnd StandardPipe(int fd, FileAccess access)
    {
        var handle = new SafeFdHandle(fd, ownsHandle: false);
        if (FileDescriptor.GetStatus(handle).IsFifo == 0)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"fd {fd} is not a pipe: with --mechanism pipe the receiver reads pings on fd 0 and writes pongs on fd 1, the sender the other way round"));
        }
        PipeEnd end = PipeEnd.FromHandle(handle, access);
        if (end.NonBlocking)
        {
            end.NonBlocking = false;
        }
        return end;
    }
}
