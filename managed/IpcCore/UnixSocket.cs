using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Native;
using SocketShutdown = System.Net.Sockets.SocketShutdown;

namespace IpcCore;

/// <summary>
/// A UNIX domain socket (unix(7)) bound to or connected through a filesystem path, or one of a
/// connected pair. Besides bytes it carries open descriptors to the peer (SCM_RIGHTS: the receiver gets
/// its own descriptor of the same open file) and tells who the peer is (SO_PEERCRED). Sends and
/// receives allocate nothing (except the <see cref="SafeFdHandle"/>s of received descriptors), and the
/// <c>Try*</c> forms report "would block" and "peer closed" as values.
/// </summary>
public sealed class UnixSocket : IDisposable
{
    /// <summary>The most descriptors one message can carry (SCM_MAX_FD).</summary>
    public const int MaxDescriptorsPerMessage = (int)Limits.MAX_FDS_PER_MSG;

    /// <summary>The longest socket path in UTF-8 bytes (sun_path without its NUL).</summary>
    public const int MaxPathBytes = (int)Limits.UNIX_PATH_MAX;

    private const int SendBuffer = 1;    // IpcNative_SetSocketBuffer's "which" for SO_SNDBUF
    private const int ReceiveBuffer = 0; // ... and for SO_RCVBUF

    private readonly SafeFdHandle _handle;

    private UnixSocket(SafeFdHandle handle, UnixSocketType type, string? path)
    {
        _handle = handle;
        Type = type;
        Path = path;
    }

    /// <summary>The descriptor, e.g. for an <see cref="EpollSet"/>.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>Stream, datagram or seqpacket.</summary>
    public UnixSocketType Type { get; }

    /// <summary>The path this socket was bound to, connected to or accepted on; null for one of a pair.</summary>
    public string? Path { get; private set; }

    /// <summary>Whether calls fail with EAGAIN (<see cref="IoStatus.WouldBlock"/>, null from <see cref="TryAccept"/>) instead of waiting.</summary>
    public bool NonBlocking
    {
        get
        {
            ThrowIfDisposed();
            return Check(IpcNative.GetNonBlocking(_handle), "fcntl(F_GETFL)") != 0;
        }
        set
        {
            ThrowIfDisposed();
            Check(IpcNative.SetNonBlocking(_handle, value ? 1 : 0), "fcntl(F_SETFL)");
        }
    }

    /// <summary>
    /// The peer's pid, uid and gid as the kernel recorded them at connect time (SO_PEERCRED). On an
    /// accepted socket this is the client; on a connected client it is the process that called listen.
    /// </summary>
    /// <exception cref="IpcException">ENOTCONN when the socket was never connected.</exception>
    public unsafe PeerCredentials PeerCredentials
    {
        get
        {
            ThrowIfDisposed();
            PeerCred cred;
            Check(IpcNative.GetPeerCred(_handle, &cred), "getsockopt(SO_PEERCRED)");
            // Linux answers an unconnected socket with pid 0 and uid/gid -1 instead of an error; -1 is
            // never a real id (a peer in another namespace shows as the overflow id 65534), so report it.
            if (cred.Pid == 0 && cred.Uid == uint.MaxValue && cred.Gid == uint.MaxValue)
            {
                ThrowError(-(int)Errno.ENOTCONN, "getsockopt(SO_PEERCRED)");
            }
            return new PeerCredentials(cred.Pid, cred.Uid, cred.Gid);
        }
    }

    /// <summary>SO_SNDBUF in bytes. Linux doubles what is set (for its bookkeeping) and reports the doubled value.</summary>
    public int SendBufferSize
    {
        get => GetBuffer(SendBuffer, "getsockopt(SO_SNDBUF)");
        set => SetBuffer(SendBuffer, value, "setsockopt(SO_SNDBUF)");
    }

    /// <summary>SO_RCVBUF in bytes. Linux doubles what is set and reports the doubled value.</summary>
    public int ReceiveBufferSize
    {
        get => GetBuffer(ReceiveBuffer, "getsockopt(SO_RCVBUF)");
        set => SetBuffer(ReceiveBuffer, value, "setsockopt(SO_RCVBUF)");
    }

    /// <summary>Creates an unbound, unconnected stream socket (close-on-exec).</summary>
    public static UnixSocket CreateStream(bool nonBlocking = false) => Create(UnixSocketType.Stream, nonBlocking);

    /// <summary>Creates an unbound, unconnected seqpacket socket: a connection that keeps message boundaries.</summary>
    public static UnixSocket CreateSeqPacket(bool nonBlocking = false) => Create(UnixSocketType.SeqPacket, nonBlocking);

    /// <summary>Creates an unbound, unconnected socket of <paramref name="type"/> (close-on-exec).</summary>
    public static UnixSocket Create(UnixSocketType type, bool nonBlocking = false)
    {
        int fd = IpcError.Check(IpcNative.UnixSocket(TypeFlags(type, nonBlocking)), "socket");
        return new UnixSocket(new SafeFdHandle(fd), type, path: null);
    }

    /// <summary>Creates two sockets connected to each other (socketpair(2)), e.g. to hand one to a child.</summary>
    public static unsafe (UnixSocket First, UnixSocket Second) CreatePair(UnixSocketType type = UnixSocketType.Stream, bool nonBlocking = false)
    {
        int* fds = stackalloc int[2];
        IpcError.Check(IpcNative.UnixSocketPair(TypeFlags(type, nonBlocking), fds), "socketpair");
        // Own both descriptors before anything else can fail.
        var first = new SafeFdHandle(fds[0]);
        var second = new SafeFdHandle(fds[1]);
        return (new UnixSocket(first, type, path: null), new UnixSocket(second, type, path: null));
    }

    /// <summary>
    /// Binds the socket to <paramref name="path"/>, creating a socket file there. The file stays after the
    /// socket closes; delete it (or its directory) when done. A stale file makes the next bind fail with EADDRINUSE.
    /// </summary>
    /// <exception cref="IpcException">EADDRINUSE when the path exists; ENAMETOOLONG beyond <see cref="MaxPathBytes"/>; ENOENT; EACCES.</exception>
    public void Bind(string path)
    {
        ValidatePath(path);
        ThrowIfDisposed();
        int result = IpcNative.UnixBind(_handle, path);
        if (result < 0)
        {
            throw PathError(result, "bind", path);
        }
        Path = path;
    }

    /// <summary>Starts accepting connections on a bound stream or seqpacket socket.</summary>
    public void Listen(int backlog = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(backlog);
        ThrowIfDisposed();
        Check(IpcNative.Listen(_handle, backlog), "listen");
    }

    /// <summary>Waits for and accepts the next connection (or, when this socket is non-blocking, fails with EAGAIN if none is pending).</summary>
    /// <param name="nonBlocking">Whether the accepted socket is non-blocking.</param>
    public UnixSocket Accept(bool nonBlocking = false)
    {
        ThrowIfDisposed();
        int fd = Check(IpcNative.Accept(_handle, nonBlocking ? (int)SocketType.SOCK_NONBLOCK : 0), "accept4");
        return new UnixSocket(new SafeFdHandle(fd), Type, Path);
    }

    /// <summary>Accepts a pending connection; null when this socket is non-blocking and none is pending.</summary>
    public UnixSocket? TryAccept(bool nonBlocking = false)
    {
        ThrowIfDisposed();
        int fd = IpcNative.Accept(_handle, nonBlocking ? (int)SocketType.SOCK_NONBLOCK : 0);
        if (fd == -(int)Errno.EAGAIN)
        {
            return null;
        }
        Check(fd, "accept4");
        return new UnixSocket(new SafeFdHandle(fd), Type, Path);
    }

    /// <summary>Connects to the socket listening at <paramref name="path"/>.</summary>
    /// <exception cref="IpcException">
    /// ENOENT when nothing is at the path; ECONNREFUSED when the file is there but nobody listens (a stale
    /// socket); EAGAIN when non-blocking and the backlog is full; EPROTOTYPE when the types differ.
    /// </exception>
    public void Connect(string path)
    {
        ValidatePath(path);
        ThrowIfDisposed();
        int result = IpcNative.UnixConnect(_handle, path);
        if (result < 0)
        {
            throw PathError(result, "connect", path);
        }
        Path = path;
    }

    /// <summary>Sends up to <paramref name="data"/>.Length bytes and returns how many were taken (a stream may take fewer).</summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and full; EPIPE when the peer closed.</exception>
    public int Send(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        return Check(SendCore(data), "sendmsg");
    }

    /// <summary>Sends without throwing for bytes, <see cref="IoStatus.WouldBlock"/> or <see cref="IoStatus.PeerClosed"/>.</summary>
    public IoResult TrySend(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        return FileDescriptor.ToWriteResult(SendCore(data), "sendmsg", Path, _handle);
    }

    /// <summary>Sends all of <paramref name="data"/>, looping over partial sends (for blocking sockets).</summary>
    public void SendAll(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        do
        {
            int sent = Check(SendCore(data), "sendmsg");
            if (sent == 0 && !data.IsEmpty)
            {
                // sendmsg(2) never takes 0 bytes of a non-empty buffer; do not spin if it ever does.
                ThrowError(-(int)Errno.EIO, "sendmsg");
            }
            data = data[sent..];
        }
        while (!data.IsEmpty);
    }

    /// <summary>
    /// Receives up to <paramref name="buffer"/>.Length bytes; returns the count, 0 at end of stream. A
    /// message that carries descriptors fails with EMSGSIZE (they are closed): use
    /// <see cref="ReceiveWithDescriptors"/> when the peer may send any.
    /// </summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and nothing is there; ECONNRESET; EMSGSIZE.</exception>
    public unsafe int Receive(Span<byte> buffer)
    {
        ThrowIfDisposed();
        int fdCount = 0;
        int result = ReceiveCore(buffer, null, 0, &fdCount);
        if (result == -(int)Errno.EMSGSIZE)
        {
            throw MessageLost(result, 0);
        }
        return Check(result, "recvmsg");
    }

    /// <summary>Receives without throwing for bytes, <see cref="IoStatus.WouldBlock"/>, <see cref="IoStatus.EndOfStream"/> or <see cref="IoStatus.PeerClosed"/>.</summary>
    public unsafe IoResult TryReceive(Span<byte> buffer)
    {
        ThrowIfDisposed();
        int fdCount = 0;
        int result = ReceiveCore(buffer, null, 0, &fdCount);
        if (result == -(int)Errno.EMSGSIZE)
        {
            throw MessageLost(result, 0);
        }
        return FileDescriptor.ToReadResult(result, buffer.Length, "recvmsg", Path, _handle);
    }

    /// <summary>
    /// Like <see cref="TryReceive"/>, but never blocks, even on a blocking socket (MSG_DONTWAIT):
    /// <see cref="IoStatus.WouldBlock"/> when nothing is there. For a bounded busy-poll before a blocking receive.
    /// </summary>
    public unsafe IoResult TryReceiveNow(Span<byte> buffer)
    {
        ThrowIfDisposed();
        int fdCount = 0;
        int result = ReceiveCore(buffer, null, 0, &fdCount, (int)MsgFlags.MSG_DONTWAIT);
        if (result == -(int)Errno.EMSGSIZE)
        {
            throw MessageLost(result, 0);
        }
        return FileDescriptor.ToReadResult(result, buffer.Length, "recvmsg", Path, _handle);
    }

    /// <summary>
    /// Sends <paramref name="payload"/> with <paramref name="descriptors"/> attached (SCM_RIGHTS). The
    /// peer receives new descriptors of the same open files; ours stay open and ours to close. The
    /// descriptors travel with the first byte, so on a stream a partial send has still delivered them:
    /// send the rest with <see cref="SendAll"/>. Returns the payload bytes sent.
    /// </summary>
    /// <param name="payload">At least 1 byte when descriptors are attached (the kernel needs one to carry them).</param>
    /// <param name="descriptors">Up to <see cref="MaxDescriptorsPerMessage"/> open handles of any kind; each is kept alive during the call.</param>
    /// <exception cref="IpcException">EAGAIN when non-blocking and full; EPIPE when the peer closed; ETOOMANYREFS when descriptors in flight nest too deep.</exception>
    public int SendWithDescriptors(ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors)
    {
        ThrowIfDisposed();
        return Check(SendWithDescriptorsCore(payload, descriptors), "sendmsg");
    }

    /// <summary>Like <see cref="SendWithDescriptors"/>, but "would block" and "peer closed" are values; then nothing, descriptors included, was sent.</summary>
    public IoResult TrySendWithDescriptors(ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors)
    {
        ThrowIfDisposed();
        return FileDescriptor.ToWriteResult(SendWithDescriptorsCore(payload, descriptors), "sendmsg", Path, _handle);
    }

    /// <summary>
    /// Receives a message into <paramref name="buffer"/> with up to <paramref name="maxDescriptors"/>
    /// descriptors, each wrapped in a <see cref="SafeFdHandle"/> the caller owns (close-on-exec).
    /// The handle array is only allocated when descriptors arrived.
    /// </summary>
    /// <exception cref="IpcException">
    /// EMSGSIZE when more than <paramref name="maxDescriptors"/> descriptors came (or a datagram was cut): the
    /// message and all its descriptors are discarded (none leaks) and the connection should be dropped.
    /// EAGAIN when non-blocking and nothing is there.
    /// </exception>
    public unsafe ReceivedMessage ReceiveWithDescriptors(Span<byte> buffer, int maxDescriptors = MaxDescriptorsPerMessage)
    {
        ValidateMaxDescriptors(maxDescriptors);
        ThrowIfDisposed();
        int* fds = stackalloc int[MaxDescriptorsPerMessage];
        int fdCount = 0;
        int result = ReceiveCore(buffer, fds, maxDescriptors, &fdCount);
        SafeFdHandle[] handles = fdCount == 0 ? [] : TakeOwnership(new ReadOnlySpan<int>(fds, fdCount));
        if (result < 0)
        {
            // The shim reports descriptors only with a successful result; stay safe if that ever changes.
            foreach (SafeFdHandle h in handles)
            {
                h.Dispose();
            }
            throw result == -(int)Errno.EMSGSIZE ? MessageLost(result, maxDescriptors) : ErrorFor(result, "recvmsg");
        }
        return new ReceivedMessage(result, handles);
    }

    /// <summary>
    /// Receives a message without throwing for the normal outcomes, adding each received descriptor (as a
    /// <see cref="SafeFdHandle"/> the caller owns) to <paramref name="descriptors"/>; reuse one list to
    /// allocate nothing but the handles themselves.
    /// </summary>
    /// <exception cref="IpcException">EMSGSIZE when more than <paramref name="maxDescriptors"/> descriptors came: see <see cref="ReceiveWithDescriptors"/>.</exception>
    public unsafe IoResult TryReceiveWithDescriptors(Span<byte> buffer, ICollection<SafeFdHandle> descriptors, int maxDescriptors = MaxDescriptorsPerMessage)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        ValidateMaxDescriptors(maxDescriptors);
        ThrowIfDisposed();
        int* fds = stackalloc int[MaxDescriptorsPerMessage];
        int fdCount = 0;
        int result = ReceiveCore(buffer, fds, maxDescriptors, &fdCount);
        if (fdCount > 0)
        {
            AddOwned(new ReadOnlySpan<int>(fds, fdCount), descriptors);
        }
        if (result == -(int)Errno.EMSGSIZE)
        {
            throw MessageLost(result, maxDescriptors);
        }
        return FileDescriptor.ToReadResult(result, buffer.Length, "recvmsg", Path, _handle);
    }

    /// <summary>
    /// Receives stream bytes into <paramref name="buffer"/>, and the descriptor batch that came with them (if
    /// any) into <paramref name="inbox"/>: wrapped in handles the inbox owns or, when the kernel could not hand
    /// it over (MSG_CTRUNC, typically EMFILE: this process's descriptor table is full), as a lost batch. Unlike
    /// <see cref="TryReceiveWithDescriptors"/> the bytes are never discarded, so the stream stays framed and the
    /// message whose descriptors were lost can be told so. One call takes at most one batch.
    /// </summary>
    /// <param name="dontWait">MSG_DONTWAIT: never block, even on a blocking socket.</param>
    public unsafe IoResult TryReceiveStream(Span<byte> buffer, DescriptorInbox inbox, bool dontWait = false)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        ThrowIfDisposed();
        int* fds = stackalloc int[MaxDescriptorsPerMessage];
        int fdCount = 0;
        int lost = 0;
        int result;
        fixed (byte* p = buffer)
        {
            result = IpcNative.RecvStream(_handle, p, buffer.Length, fds, MaxDescriptorsPerMessage, &fdCount, &lost,
                dontWait ? (int)MsgFlags.MSG_DONTWAIT : 0);
        }
        if (fdCount > 0)
        {
            inbox.Add(DescriptorBatch.Received(TakeOwnership(new ReadOnlySpan<int>(fds, fdCount))));
        }
        else if (lost != 0)
        {
            inbox.Add(DescriptorBatch.Lost());
        }
        return FileDescriptor.ToReadResult(result, buffer.Length, "recvmsg", Path, _handle);
    }

    /// <summary>Shuts down sending (the peer reads end of stream), receiving, or both, for every descriptor of this socket.</summary>
    public void Shutdown(SocketShutdown how)
    {
        int shut = how switch
        {
            SocketShutdown.Receive => (int)ShutdownHow.SHUT_RD,
            SocketShutdown.Send => (int)ShutdownHow.SHUT_WR,
            SocketShutdown.Both => (int)ShutdownHow.SHUT_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, "Receive, Send or Both."),
        };
        ThrowIfDisposed();
        Check(IpcNative.Shutdown(_handle, shut), "shutdown");
    }

    /// <summary>Closes the socket. A bound socket's file is not removed.</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"unix {Type} {Path ?? "(unnamed)"} ({_handle})";

    private unsafe int SendCore(ReadOnlySpan<byte> data) => SendCore(data, null, 0);

    private unsafe int SendCore(ReadOnlySpan<byte> data, int* fds, int fdCount)
    {
        fixed (byte* p = data)
        {
            return IpcNative.SendMsg(_handle, p, data.Length, fds, fdCount, 0);
        }
    }

    private unsafe int ReceiveCore(Span<byte> buffer, int* fds, int maxFds, int* fdCount, int flags = 0)
    {
        fixed (byte* p = buffer)
        {
            return IpcNative.RecvMsg(_handle, p, buffer.Length, fds, maxFds, fdCount, flags);
        }
    }

    private unsafe int SendWithDescriptorsCore(ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors)
    {
        if (descriptors.Length > MaxDescriptorsPerMessage)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"One message carries at most {MaxDescriptorsPerMessage} descriptors (SCM_MAX_FD); got {descriptors.Length}. Send them in several messages."),
                nameof(descriptors));
        }
        if (!descriptors.IsEmpty && payload.IsEmpty)
        {
            throw new ArgumentException("Descriptors travel with payload bytes: send at least 1 byte with them.", nameof(payload));
        }
        foreach (SafeHandle h in descriptors)
        {
            ArgumentNullException.ThrowIfNull(h, nameof(descriptors));
            if (h.IsInvalid)
            {
                throw new ArgumentException("An invalid handle cannot be sent.", nameof(descriptors));
            }
        }

        int* fds = stackalloc int[MaxDescriptorsPerMessage];
        int referenced = 0;
        try
        {
            // The kernel takes plain numbers: hold a reference on each handle so none can be closed
            // (and its number reused for something else) before sendmsg has taken its copy.
            for (int i = 0; i < descriptors.Length; i++)
            {
                bool added = false;
                descriptors[i].DangerousAddRef(ref added);
                referenced++;
                fds[i] = (int)descriptors[i].DangerousGetHandle();
            }
            return SendCore(payload, fds, descriptors.Length);
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                descriptors[i].DangerousRelease();
            }
        }
    }

    /// <summary>Wraps received descriptor numbers in handles; if that fails, closes the ones not yet wrapped.</summary>
    private static SafeFdHandle[] TakeOwnership(ReadOnlySpan<int> fds)
    {
        int owned = 0;
        try
        {
            var handles = new SafeFdHandle[fds.Length];
            for (; owned < fds.Length; owned++)
            {
                handles[owned] = new SafeFdHandle(fds[owned]);
            }
            return handles;
        }
        catch
        {
            for (int i = owned; i < fds.Length; i++)
            {
                _ = IpcNative.Close(fds[i]);
            }
            throw;
        }
    }

    /// <summary>Adds a handle per received descriptor to <paramref name="into"/>; if that fails, closes the ones not yet handed over.</summary>
    private static void AddOwned(ReadOnlySpan<int> fds, ICollection<SafeFdHandle> into)
    {
        int owned = 0;
        try
        {
            while (owned < fds.Length)
            {
                var handle = new SafeFdHandle(fds[owned]);
                owned++;
                try
                {
                    into.Add(handle);
                }
                catch
                {
                    handle.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            for (int i = owned; i < fds.Length; i++)
            {
                _ = IpcNative.Close(fds[i]);
            }
            throw;
        }
    }

    private int GetBuffer(int which, string operation)
    {
        ThrowIfDisposed();
        return Check(IpcNative.GetSocketBuffer(_handle, which), operation);
    }

    private void SetBuffer(int which, int bytes, string operation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ThrowIfDisposed();
        Check(IpcNative.SetSocketBuffer(_handle, which, bytes), operation);
    }

    private static int TypeFlags(UnixSocketType type, bool nonBlocking)
    {
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Stream, Datagram or SeqPacket.");
        }
        return (int)type | (nonBlocking ? (int)SocketType.SOCK_NONBLOCK : 0);
    }

    private static void ValidatePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A socket path cannot contain NUL (abstract sockets are not supported).", nameof(path));
        }
    }

    private static void ValidateMaxDescriptors(int maxDescriptors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDescriptors);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDescriptors, MaxDescriptorsPerMessage);
    }

    private static IpcException PathError(int result, string operation, string path)
    {
        IpcException plain = IpcError.Create(result, operation, path);
        if (result == -(int)Errno.ENAMETOOLONG)
        {
            return new IpcException(operation, path, plain.ErrorNumber, string.Create(CultureInfo.InvariantCulture,
                $"{plain.Message}: a UNIX socket path is at most {MaxPathBytes} bytes, this one is {Encoding.UTF8.GetByteCount(path)}"));
        }
        return plain;
    }

    private IpcException MessageLost(int result, int maxDescriptors)
    {
        IpcException plain = IpcError.Create(result, "recvmsg", ObjectName);
        return new IpcException(plain.Operation, plain.ObjectName, plain.ErrorNumber, string.Create(CultureInfo.InvariantCulture,
            $"{plain.Message}: the message carried more than {maxDescriptors} descriptors or did not fit the buffer; it was discarded with every descriptor it carried"));
    }

    private string ObjectName => Path ?? _handle.ToString();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Check(int result, string operation)
    {
        if (result < 0)
        {
            ThrowError(result, operation);
        }
        return result;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowError(int result, string operation) => throw ErrorFor(result, operation);

    private IpcException ErrorFor(int result, string operation) => IpcError.Create(result, operation, ObjectName);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
}
