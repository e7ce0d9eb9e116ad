using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Native;
using IpcCore.Protocol;

namespace IpcCore.Client;

/// <summary>
/// The FIFO transport: Welcome names two FIFOs in the hub directory (u16 length + path for c2h, then for
/// h2c). The client opens c2h for writing and h2c for reading (neither waits: the hub holds both open) and
/// sends its first frame, after which the hub removes the names.
/// </summary>
internal sealed class FifoClientTransport : IClientTransport
{
    public TransportKind Kind => TransportKind.Fifo;

    public IClientDataPath Open(UnixSocket control, in WelcomePayload welcome, ReadOnlySpan<byte> extension, List<SafeFdHandle> descriptors)
    {
        int offset = 0;
        if (!WelcomeNames.TryRead(extension, ref offset, out string? c2hPath) || !WelcomeNames.TryRead(extension, ref offset, out string? h2cPath)
            || offset != extension.Length)
        {
            throw new InvalidDataException($"the hub's Welcome has a malformed FIFO extension ({extension.Length} bytes)");
        }
        PipeEnd? output = null, input = null;
        try
        {
            output = Fifo.OpenWriter(c2hPath!, nonBlocking: true);
            input = Fifo.OpenReader(h2cPath!, nonBlocking: true);
            var path = new StreamPairClientDataPath(TransportKind.Fifo, control, output, input, "FIFO " + c2hPath);
            path.SendFirstFrame();
            return path;
        }
        catch
        {
            output?.Dispose();
            input?.Dispose();
            throw;
        }
    }
}

/// <summary>
/// The anonymous-pipe transport: Welcome carries the client's ends of two pipes the hub made (SCM_RIGHTS:
/// the c2h write end, then the h2c read end).
/// </summary>
internal sealed class PipeClientTransport : IClientTransport
{
    public TransportKind Kind => TransportKind.Pipe;

    public IClientDataPath Open(UnixSocket control, in WelcomePayload welcome, ReadOnlySpan<byte> extension, List<SafeFdHandle> descriptors)
    {
        if (descriptors.Count != 2 || !extension.IsEmpty)
        {
            throw new InvalidDataException(
                $"the hub's Welcome carried {descriptors.Count} descriptors and {extension.Length} extension bytes; the pipe transport needs 2 descriptors (the c2h write end, the h2c read end) and none");
        }
        PipeEnd output = PipeEnd.FromHandle(descriptors[0], FileAccess.Write);
        PipeEnd input = PipeEnd.FromHandle(descriptors[1], FileAccess.Read);
        descriptors.Clear();
        try
        {
            // Non-blocking either way (the hub made them so): waits go through poll, with the control socket.
            output.NonBlocking = true;
            input.NonBlocking = true;
            return new StreamPairClientDataPath(TransportKind.Pipe, control, output, input, "pipe to the hub");
        }
        catch
        {
            output.Dispose();
            input.Dispose();
            throw;
        }
    }
}

/// <summary>Reads the u16-length-prefixed UTF-8 names of Welcome extensions.</summary>
internal static class WelcomeNames
{
    public static bool TryRead(ReadOnlySpan<byte> extension, ref int offset, out string? name)
    {
        name = null;
        if (extension.Length - offset < 2)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16LittleEndian(extension[offset..]);
        offset += 2;
        if (length == 0 || extension.Length - offset < length)
        {
            return false;
        }
        name = Encoding.UTF8.GetString(extension.Slice(offset, length));
        offset += length;
        return !name.Contains('\0', StringComparison.Ordinal);
    }
}

/// <summary>
/// A data path of two non-blocking one-way streams (FIFOs or pipes) plus the control socket. Waits are a
/// poll on the stream and the control socket together, so a hub that goes, or <see cref="Shutdown"/>
/// (which shuts the control socket down), ends every wait at once.
/// </summary>
internal sealed class StreamPairClientDataPath : IClientDataPath
{
    private readonly UnixSocket _control;
    private readonly PipeEnd _output;
    private readonly PipeEnd _input;
    private readonly string _description;
    private readonly SafeHandle[] _sendPoll;
    private readonly SafeHandle[] _receivePoll;
    private readonly PollEvents[] _sendEvents = [PollEvents.POLLOUT, PollEvents.POLLIN];
    private readonly PollEvents[] _receiveEvents = [PollEvents.POLLIN, PollEvents.POLLIN];
    private readonly SafeHandle[] _controlPoll;
    private readonly PollEvents[] _controlIn = [PollEvents.POLLIN];
    private readonly PollEvents[] _controlOut = [PollEvents.POLLOUT];
    private readonly DescriptorInbox _inbox = new(); // under its own lock: the receive thread and senders drain the control socket
    private volatile bool _shutdown;

    public StreamPairClientDataPath(TransportKind kind, UnixSocket control, PipeEnd output, PipeEnd input, string description)
    {
        Kind = kind;
        _control = control;
        _output = output;
        _input = input;
        _description = description;
        _sendPoll = [output.Handle, control.Handle];
        _receivePoll = [input.Handle, control.Handle];
        _controlPoll = [control.Handle];
    }

    /// <summary>
    /// Whether the hub sends messages' descriptors ahead of their frames on the control socket (the pipe
    /// transport; FIFOs live in the filesystem and carry none).
    /// </summary>
    private bool CarriesDescriptors => Kind == TransportKind.Pipe;

    /// <summary>The byte that carries a batch on the control socket.</summary>
    private static ReadOnlySpan<byte> DescriptorMarker => "D"u8;

    public TransportKind Kind { get; }

    /// <summary>Tells the hub both streams are open (it then removes the FIFOs' names): a Pong with sequence 0, which it ignores.</summary>
    public void SendFirstFrame()
    {
        Span<byte> pong = stackalloc byte[FrameHeader.Size];
        new FrameHeader(FrameType.Pong, FrameFlags.None, 0, 0, 0).Write(pong);
        SendAll(pong);
    }

    public void SendAll(ReadOnlySpan<byte> frames)
    {
        Span<PollEvents> ready = stackalloc PollEvents[2];
        while (!frames.IsEmpty)
        {
            if (_shutdown)
            {
                throw new IpcException("write", _description, (int)Errno.EPIPE);
            }
            IoResult result = _output.TryWrite(frames);
            switch (result.Status)
            {
                case IoStatus.Success:
                    frames = frames[result.BytesTransferred..];
                    continue;
                case IoStatus.WouldBlock:
                    FileDescriptor.Poll(_sendPoll, _sendEvents, ready, -1);
                    if ((ready[0] & (PollEvents.POLLOUT | PollEvents.POLLERR)) == 0
                        && (ready[1] & ControlSocket.Ended) != 0 && !OnlyDescriptorsCame(ready[1]))
                    {
                        // The hub closed the connection (or Shutdown did): nobody will read this.
                        throw new IpcException("write", _description, (int)Errno.EPIPE);
                    }
                    continue;
                default:
                    throw new IpcException("write", _description, (int)Errno.EPIPE);
            }
        }
    }

    public IoResult Receive(Span<byte> buffer)
    {
        Span<PollEvents> ready = stackalloc PollEvents[2];
        while (true)
        {
            IoResult result = _input.TryRead(buffer);
            if (result.Status != IoStatus.WouldBlock)
            {
                return result;
            }
            if (_shutdown)
            {
                return new IoResult(IoStatus.EndOfStream, 0);
            }
            FileDescriptor.Poll(_receivePoll, _receiveEvents, ready, -1);
            if ((ready[0] & (PollEvents.POLLIN | PollEvents.POLLHUP | PollEvents.POLLERR)) != 0)
            {
                continue;
            }
            if ((ready[1] & ControlSocket.Ended) != 0 && !OnlyDescriptorsCame(ready[1]))
            {
                // The control connection ended: take what the hub wrote before (its Goodbye, a fatal Error), then end.
                result = _input.TryRead(buffer);
                return result.Status == IoStatus.WouldBlock ? new IoResult(IoStatus.EndOfStream, 0) : result;
            }
        }
    }

    public void SendAllWithDescriptors(ReadOnlySpan<byte> frames, ReadOnlySpan<SafeHandle> descriptors)
    {
        if (!CarriesDescriptors)
        {
            throw new NotSupportedException($"the {Kind} transport cannot carry descriptors");
        }
        // The batch goes ahead on the control socket; the hub takes it when it reads the frame.
        Span<PollEvents> ready = stackalloc PollEvents[1];
        while (true)
        {
            if (_shutdown)
            {
                throw new IpcException("sendmsg", _description, (int)Errno.EPIPE);
            }
            IoResult sent = _control.TrySendWithDescriptors(DescriptorMarker, descriptors);
            if (sent.Status == IoStatus.Success)
            {
                break;
            }
            if (sent.Status != IoStatus.WouldBlock)
            {
                throw new IpcException("sendmsg", _description, (int)Errno.EPIPE);
            }
            FileDescriptor.Poll(_controlPoll, _controlOut, ready, 100);
        }
        SendAll(frames);
    }

    public DescriptorBatch? TakeDescriptors()
    {
        Span<PollEvents> ready = stackalloc PollEvents[1];
        // Sent before the frame was written into the pipe, so normally here already; a moment's grace, no more.
        long deadline = MonotonicClock.NowNs + 1_000_000_000;
        while (true)
        {
            lock (_inbox)
            {
                if (_inbox.TryTake(out DescriptorBatch batch))
                {
                    return batch;
                }
                if (!DrainControlLocked())
                {
                    return _inbox.TryTake(out batch) ? batch : null;
                }
                if (_inbox.TryTake(out batch))
                {
                    return batch;
                }
            }
            long left = deadline - MonotonicClock.NowNs;
            if (left <= 0 || _shutdown)
            {
                return null;
            }
            FileDescriptor.Poll(_controlPoll, _controlIn, ready, (int)Math.Max(1, left / 1_000_000));
        }
    }

    /// <summary>
    /// POLLIN on the control socket means either the hub closed it or batches of descriptors came ahead of their
    /// frames: takes the batches; true when that is all it was (the connection goes on).
    /// </summary>
    private bool OnlyDescriptorsCame(PollEvents controlEvents)
    {
        if (!CarriesDescriptors || _shutdown || (controlEvents & (PollEvents.POLLHUP | PollEvents.POLLERR)) != 0)
        {
            return false;
        }
        lock (_inbox)
        {
            return DrainControlLocked();
        }
    }

    /// <summary>Moves waiting batches into the inbox; false at end of stream (the hub closed the connection).</summary>
    private bool DrainControlLocked()
    {
        Span<byte> markers = stackalloc byte[64];
        while (true)
        {
            IoResult result;
            try
            {
                result = _control.TryReceiveStream(markers, _inbox, dontWait: true);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            if (result.Status == IoStatus.WouldBlock)
            {
                return true;
            }
            if (result.Status != IoStatus.Success)
            {
                return false;
            }
        }
    }

    public void Shutdown()
    {
        if (_shutdown)
        {
            return;
        }
        _shutdown = true;
        ControlSocket.ShutdownQuietly(_control);
    }

    public void Dispose()
    {
        Shutdown();
        _output.Dispose();
        _input.Dispose();
        _control.Dispose();
        lock (_inbox)
        {
            _inbox.Dispose();
        }
    }

    public override string ToString() => _description;
}

/// <summary>What the FIFO, pipe and message-queue client paths share about their control socket.</summary>
internal static class ControlSocket
{
    /// <summary>What poll reports on the control socket once the hub closed it or <see cref="ShutdownQuietly"/> ran.</summary>
    public const PollEvents Ended = PollEvents.POLLIN | PollEvents.POLLHUP | PollEvents.POLLERR;

    /// <summary>Shuts the socket down (both ways), which ends every poll that includes it; never throws.</summary>
    public static void ShutdownQuietly(UnixSocket control)
    {
        try
        {
            control.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        }
        catch (IpcException)
        {
            // Already disconnected.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
