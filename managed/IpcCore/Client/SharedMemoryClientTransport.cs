using System.Buffers.Binary;
using System.Text;
using IpcCore.Native;
using IpcCore.Protocol;
using IpcCore.Rings;

namespace IpcCore.Client;

/// <summary>
/// The shared-memory transport: Welcome names two rings (client→hub, hub→client) and carries the hub's
/// doorbell eventfd. The client produces into c2h and consumes h2c; it wakes the hub (asleep in epoll_wait)
/// through the doorbell and sleeps itself on h2c's futex. The control socket stays open for liveness.
/// </summary>
internal sealed class SharedMemoryClientTransport : IClientTransport
{
    public TransportKind Kind => TransportKind.SharedMemory;

    public IClientDataPath Open(UnixSocket control, in WelcomePayload welcome, ReadOnlySpan<byte> extension, List<SafeFdHandle> descriptors)
    {
        if (!TryParseExtension(extension, out long capacity, out string? c2hName, out string? h2cName,
                out RingWakeMode wakeMode, out RingSemaphoreNames? c2hSemaphores, out RingSemaphoreNames? h2cSemaphores))
        {
            throw new InvalidDataException($"the hub's Welcome has a malformed shared-memory extension ({extension.Length} bytes)");
        }
        if (descriptors.Count != 1)
        {
            throw new InvalidDataException($"the hub's Welcome carried {descriptors.Count} descriptors; the shared-memory transport needs 1 (the doorbell eventfd)");
        }
        SafeFdHandle doorbellHandle = descriptors[0];
        descriptors.RemoveAt(0);
        var doorbell = EventFd.FromHandle(doorbellHandle);
        SharedMemory? c2hMemory = null, h2cMemory = null;
        ShmRing? c2h = null, h2c = null;
        try
        {
            c2hMemory = SharedMemory.Open(c2hName!);
            h2cMemory = SharedMemory.Open(h2cName!);
            c2h = ShmRing.Attach(c2hMemory.Region, c2hSemaphores);
            h2c = ShmRing.Attach(h2cMemory.Region, h2cSemaphores);
            if (c2h.WakeMode != wakeMode || h2c.WakeMode != wakeMode)
            {
                throw new InvalidDataException($"the rings' wake modes ({c2h.WakeMode}, {h2c.WakeMode}) differ from Welcome's {wakeMode}");
            }
            if (c2h.Capacity != capacity || h2c.Capacity != capacity)
            {
                throw new InvalidDataException($"the rings' capacities ({c2h.Capacity}, {h2c.Capacity}) differ from Welcome's {capacity}");
            }
            var waker = new EventFdRingWaker(doorbell);
            c2h.ConsumerWaker = waker; // the hub consumes c2h in epoll_wait
            h2c.ProducerWaker = waker; // and produces h2c there
            var path = new SharedMemoryClientDataPath(control, doorbell, c2hMemory, h2cMemory, c2h, h2c, welcome.HubPid);
            // The first frame through c2h tells the hub both objects are mapped (it unlinks their names then).
            Span<byte> pong = stackalloc byte[FrameHeader.Size];
            new FrameHeader(FrameType.Pong, FrameFlags.None, 0, 0, 0).Write(pong);
            path.SendAll(pong);
            return path;
        }
        catch
        {
            c2h?.Dispose();
            h2c?.Dispose();
            c2hMemory?.Dispose();
            h2cMemory?.Dispose();
            doorbell.Dispose();
            throw;
        }
    }

    /// <summary>Welcome's shared-memory bytes: u64 capacity, u16 length + c2h name, u16 length + h2c name.</summary>
    internal static bool TryParseExtension(ReadOnlySpan<byte> extension, out long capacity, out string? c2h, out string? h2c)
        => TryParseExtension(extension, out capacity, out c2h, out h2c, out _, out _, out _);

    /// <summary>
    /// Welcome's shared-memory bytes: u64 capacity, u16 length + c2h name, u16 length + h2c name, then
    /// optionally u8 wake mode (absent: futex) and, for semaphore mode, the c2h data, c2h space, h2c data
    /// and h2c space semaphore names (u16 length + bytes each).
    /// </summary>
    internal static bool TryParseExtension(ReadOnlySpan<byte> extension, out long capacity, out string? c2h, out string? h2c,
        out RingWakeMode wakeMode, out RingSemaphoreNames? c2hSemaphores, out RingSemaphoreNames? h2cSemaphores)
    {
        capacity = 0;
        c2h = h2c = null;
        wakeMode = RingWakeMode.Futex;
        c2hSemaphores = h2cSemaphores = null;
        if (extension.Length < 12)
        {
            return false;
        }
        capacity = (long)BinaryPrimitives.ReadUInt64LittleEndian(extension);
        int offset = 8;
        if (!TryReadName(extension, ref offset, out c2h) || !TryReadName(extension, ref offset, out h2c))
        {
            return false;
        }
        if (offset < extension.Length)
        {
            wakeMode = (RingWakeMode)extension[offset++];
            if (wakeMode == RingWakeMode.Semaphore)
            {
                if (!TryReadName(extension, ref offset, out string? c2hData) || !TryReadName(extension, ref offset, out string? c2hSpace)
                    || !TryReadName(extension, ref offset, out string? h2cData) || !TryReadName(extension, ref offset, out string? h2cSpace))
                {
                    return false;
                }
                c2hSemaphores = new RingSemaphoreNames(c2hData!, c2hSpace!);
                h2cSemaphores = new RingSemaphoreNames(h2cData!, h2cSpace!);
            }
            else if (wakeMode != RingWakeMode.Futex)
            {
                return false;
            }
        }
        return offset == extension.Length && capacity > 0;
    }

    private static bool TryReadName(ReadOnlySpan<byte> extension, ref int offset, out string? name)
    {
        name = null;
        if (extension.Length - offset < 2)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16LittleEndian(extension[offset..]);
        offset += 2;
        if (length < 2 || extension.Length - offset < length || extension[offset] != (byte)'/')
        {
            return false;
        }
        name = Encoding.UTF8.GetString(extension.Slice(offset, length));
        offset += length;
        return true;
    }
}

/// <summary>The client's side of the two rings. One sender at a time (the group-commit flush), one receiver (the receive thread).</summary>
internal sealed class SharedMemoryClientDataPath : IClientDataPath
{
    private static readonly long s_sliceNs = 100_000_000; // how often waits check the hub and the control socket

    private readonly UnixSocket _control;
    private readonly EventFd _doorbell;
    private readonly SharedMemory _c2hMemory;
    private readonly SharedMemory _h2cMemory;
    private readonly ShmRing _c2h;
    private readonly ShmRing _h2c;
    private readonly RingStreamWriter _writer;
    private readonly RingStreamReader _reader;
    private readonly int _hubPid;
    private readonly object _disposeLock = new();
    private int _activeCalls;
    private volatile bool _shutdown;
    private bool _disposed;

    public SharedMemoryClientDataPath(UnixSocket control, EventFd doorbell, SharedMemory c2hMemory, SharedMemory h2cMemory,
        ShmRing c2h, ShmRing h2c, int hubPid)
    {
        _control = control;
        _doorbell = doorbell;
        _c2hMemory = c2hMemory;
        _h2cMemory = h2cMemory;
        _c2h = c2h;
        _h2c = h2c;
        _hubPid = hubPid;
        _writer = new RingStreamWriter(c2h.CreateProducer());
        _reader = new RingStreamReader(h2c.CreateConsumer());
    }

    public TransportKind Kind => TransportKind.SharedMemory;

    // A send is a copy into the ring (a wake-up only when the hub sleeps), so batching would only add delay.
    public bool CoalescesWrites => false;

    public long SpinNs
    {
        get => _reader.Consumer.SpinNs;
        set
        {
            _reader.Consumer.SpinNs = value;
            _writer.Producer.SpinNs = value;
        }
    }

    public bool TryBeginDirectWrite(int length, out Span<byte> destination)
    {
        destination = default;
        if (_shutdown || length > _c2h.MaxRecord)
        {
            return false;
        }
        try
        {
            Enter();
        }
        catch (ObjectDisposedException)
        {
            return false; // the caller's usual path reports the closed connection
        }
        if (_writer.Producer.TryClaim(length, out destination))
        {
            return true; // entered until EndDirectWrite
        }
        Exit();
        return false;
    }

    public void EndDirectWrite()
    {
        _writer.Producer.Commit();
        Exit();
    }

    public void SendAll(ReadOnlySpan<byte> frames)
    {
        Enter();
        try
        {
            while (!frames.IsEmpty)
            {
                if (_shutdown)
                {
                    throw new IpcException("write", "shared-memory ring", (int)Errno.EPIPE);
                }
                int n = _writer.Write(frames);
                if (n > 0)
                {
                    frames = frames[n..];
                    continue;
                }
                RingWaitResult result = _writer.Producer.WaitForSpace(RingStreamWriter.MinChunk, MonotonicClock.NowNs + s_sliceNs);
                if (result == RingWaitResult.PeerGone || (result == RingWaitResult.TimedOut && ControlClosed()))
                {
                    throw new IpcException("write", "shared-memory ring", (int)Errno.EPIPE);
                }
            }
        }
        finally
        {
            Exit();
        }
    }

    public IoResult Receive(Span<byte> buffer)
    {
        Enter();
        try
        {
            while (true)
            {
                int n = _reader.Read(buffer);
                if (n > 0)
                {
                    return new IoResult(IoStatus.Success, n);
                }
                if (_shutdown)
                {
                    return new IoResult(IoStatus.EndOfStream, 0);
                }
                RingWaitResult result = _reader.WaitForData(MonotonicClock.NowNs + s_sliceNs);
                if (result == RingWaitResult.Ready)
                {
                    continue;
                }
                if (_reader.HasData)
                {
                    continue;
                }
                if (result == RingWaitResult.PeerGone || !ProcessInfo.IsAlive(_hubPid))
                {
                    return new IoResult(IoStatus.PeerClosed, 0);
                }
                if (ControlClosed())
                {
                    // The hub closed the connection (after Goodbye or a fatal Error, which came before through the ring).
                    return _reader.HasData ? new IoResult(IoStatus.Success, _reader.Read(buffer)) : new IoResult(IoStatus.EndOfStream, 0);
                }
            }
        }
        finally
        {
            Exit();
        }
    }

    public void Shutdown()
    {
        if (_shutdown)
        {
            return;
        }
        _shutdown = true;
        lock (_disposeLock)
        {
            if (_disposed)
            {
                return;
            }
            // Wake a receive thread asleep on h2c's futex (it sees _shutdown and reports end of stream).
            _h2c.WakeConsumer();
            _c2h.WakeProducer();
            try
            {
                _control.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            }
            catch (IpcException)
            {
            }
        }
    }

    /// <summary>Whether the hub closed the control connection (end of stream or hang-up), without waiting.</summary>
    private bool ControlClosed()
    {
        try
        {
            PollEvents events = FileDescriptor.Poll(_control.Handle, PollEvents.POLLIN, 0);
            return (events & (PollEvents.POLLHUP | PollEvents.POLLERR | PollEvents.POLLIN)) != 0;
        }
        catch (IpcException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    private void Enter()
    {
        lock (_disposeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _activeCalls++;
        }
    }

    private void Exit()
    {
        lock (_disposeLock)
        {
            _activeCalls--;
            Monitor.PulseAll(_disposeLock);
        }
    }

    public void Dispose()
    {
        Shutdown();
        lock (_disposeLock)
        {
            if (_disposed)
            {
                return;
            }
            // The mappings must outlive a send or receive still running on another thread.
            while (_activeCalls > 0)
            {
                Monitor.Wait(_disposeLock, 50);
                _h2c.WakeConsumer();
                _c2h.WakeProducer();
            }
            _disposed = true;
        }
        _c2h.Dispose();
        _h2c.Dispose();
        _c2hMemory.Dispose();
        _h2cMemory.Dispose();
        _doorbell.Dispose();
        _control.Dispose();
    }
}
