using IpcCore.Protocol;
using IpcCore.Rings;

namespace IpcCore.Client;

/// <summary>
/// The data path of one connection: how frames travel after the handshake. The handshake itself always
/// runs over the control socket; Welcome's transport-specific bytes tell a transport where its data path
/// is (for the socket transport the data path is the control socket itself). The client library above
/// only sees whole frame bytes going out and a byte stream coming in.
/// </summary>
internal interface IClientDataPath : IDisposable
{
    TransportKind Kind { get; }

    /// <summary>
    /// Whether each <see cref="SendAll"/> is a system call, so a burst of frames should be gathered into one
    /// (socket, FIFO, pipe, message queue); false where a send is a memory copy (the shared-memory rings).
    /// </summary>
    bool CoalescesWrites => true;

    /// <summary>
    /// Room for one whole frame of <paramref name="length"/> bytes written in place (the shm ring), or false
    /// (the caller then sends through its buffer). On true the caller writes the frame and must call
    /// <see cref="EndDirectWrite"/>, which publishes it.
    /// </summary>
    bool TryBeginDirectWrite(int length, out Span<byte> destination)
    {
        destination = default;
        return false;
    }

    /// <summary>Publishes the frame written after <see cref="TryBeginDirectWrite"/>.</summary>
    void EndDirectWrite()
    {
    }

    /// <summary>How long receives spin before sleeping (<see cref="HubClientOptions.SpinWait"/>); the shared-memory rings and the socket spin.</summary>
    long SpinNs
    {
        get => 0;
        set { }
    }

    /// <summary>Sends all of <paramref name="frames"/> (whole frames), blocking while the path is full.</summary>
    /// <exception cref="IpcException">The path is broken (EPIPE, ECONNRESET, ...).</exception>
    void SendAll(ReadOnlySpan<byte> frames);

    /// <summary>Blocks until bytes arrive; end of stream or a reset connection are statuses, not exceptions.</summary>
    IoResult Receive(Span<byte> buffer);

    /// <summary>
    /// Sends <paramref name="frames"/> (starting with a frame that declares descriptors) with
    /// <paramref name="descriptors"/> attached: on the socket to the first byte, over a pipe ahead of it on the
    /// control socket. Blocks while the path is full.
    /// </summary>
    /// <exception cref="NotSupportedException">The transport cannot carry descriptors.</exception>
    void SendAllWithDescriptors(ReadOnlySpan<byte> frames, ReadOnlySpan<System.Runtime.InteropServices.SafeHandle> descriptors)
        => throw new NotSupportedException($"the {Kind} transport cannot carry descriptors");

    /// <summary>
    /// Receive thread, after a Data frame that declares descriptors was read: the batch that came for it (the
    /// caller owns it; it may be a lost one), or null when none arrived.
    /// </summary>
    DescriptorBatch? TakeDescriptors() => null;

    /// <summary>Wakes a blocked <see cref="Receive"/> (it reports end of stream) and fails further sends. Never throws.</summary>
    void Shutdown();
}

/// <summary>A client-side transport: turns a handshaken control connection into a data path.</summary>
internal interface IClientTransport
{
    TransportKind Kind { get; }

    /// <summary>
    /// Opens the data path once Welcome arrived. Takes ownership of <paramref name="control"/> (the data
    /// path disposes it).
    /// </summary>
    /// <param name="descriptors">Descriptors that came with Welcome (SCM_RIGHTS); the transport removes those it keeps, the caller closes the rest.</param>
    IClientDataPath Open(UnixSocket control, in WelcomePayload welcome, ReadOnlySpan<byte> extension, List<SafeFdHandle> descriptors);
}

/// <summary>The client transports this build has.</summary>
internal static class ClientTransports
{
    private static readonly SocketClientTransport s_socket = new();
    private static readonly SharedMemoryClientTransport s_sharedMemory = new();
    private static readonly FifoClientTransport s_fifo = new();
    private static readonly PipeClientTransport s_pipe = new();
    private static readonly MessageQueueClientTransport s_messageQueue = new();

    /// <summary>The transport for <paramref name="kind"/>, or null when it is not available.</summary>
    public static IClientTransport? Find(TransportKind kind) => kind switch
    {
        TransportKind.Socket => s_socket,
        TransportKind.SharedMemory => s_sharedMemory,
        TransportKind.Fifo => s_fifo,
        TransportKind.Pipe => s_pipe,
        TransportKind.MessageQueue => s_messageQueue,
        _ => null,
    };
}

/// <summary>Everything over the UNIX control socket.</summary>
internal sealed class SocketClientTransport : IClientTransport
{
    public TransportKind Kind => TransportKind.Socket;

    public IClientDataPath Open(UnixSocket control, in WelcomePayload welcome, ReadOnlySpan<byte> extension, List<SafeFdHandle> descriptors)
        => new SocketDataPath(control);
}

/// <summary>The control socket as the data path (blocking: the receive thread blocks in recvmsg).</summary>
internal sealed class SocketDataPath : IClientDataPath
{
    private readonly UnixSocket _socket;
    private readonly DescriptorInbox _inbox = new(); // receive thread only
    private int _shutdown;

    public SocketDataPath(UnixSocket socket) => _socket = socket;

    public TransportKind Kind => TransportKind.Socket;

    public void SendAll(ReadOnlySpan<byte> frames) => _socket.SendAll(frames);

    public void SendAllWithDescriptors(ReadOnlySpan<byte> frames, ReadOnlySpan<System.Runtime.InteropServices.SafeHandle> descriptors)
    {
        // The descriptors go with the first byte, even when the send takes only part of the frames.
        int sent = _socket.SendWithDescriptors(frames, descriptors);
        if (sent < frames.Length)
        {
            _socket.SendAll(frames[sent..]);
        }
    }

    public DescriptorBatch? TakeDescriptors() => _inbox.TryTake(out DescriptorBatch batch) ? batch : null;

    public long SpinNs { get; set; }

    public IoResult Receive(Span<byte> buffer)
    {
        if (SpinNs > 0)
        {
            // Busy-poll for a while before blocking: a receive thread that sleeps in recvmsg costs each message
            // a wake-up (~10 µs here, ~20 µs when the idle vCPU must be woken too).
            long end = MonotonicClock.NowNs + SpinNs;
            for (int i = 0; ; i++)
            {
                IoResult now = _socket.TryReceiveStream(buffer, _inbox, dontWait: true);
                if (now.Status != IoStatus.WouldBlock)
                {
                    return now;
                }
                if ((i & 7) == 7 && MonotonicClock.NowNs >= end)
                {
                    break;
                }
                RingSpin.Once(i);
            }
        }
        return _socket.TryReceiveStream(buffer, _inbox);
    }

    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
        {
            return;
        }
        try
        {
            _socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        }
        catch (IpcException)
        {
            // Already disconnected (ENOTCONN): nothing to wake.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _inbox.Dispose();
    }
}
