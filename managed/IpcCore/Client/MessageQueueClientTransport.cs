using System.Buffers.Binary;
using System.Runtime.InteropServices;
using IpcCore.MessageQueues;
using IpcCore.Native;
using IpcCore.Protocol;

namespace IpcCore.Client;

/// <summary>
/// The message-queue transport: Welcome names two queues the hub made (u32 depth, u32 message size, then
/// u16 length + name of c2h and of h2c). The client sends into c2h and receives from h2c, frames split into
/// messages and reassembled per priority (<see cref="MessageQueueFrameWriter"/>, <see cref="MessageQueueFrameReader"/>).
/// </summary>
internal sealed class MessageQueueClientTransport : IClientTransport
{
    public TransportKind Kind => TransportKind.MessageQueue;

    public IClientDataPath Open(UnixSocket control, in WelcomePayload welcome, ReadOnlySpan<byte> extension, List<SafeFdHandle> descriptors)
    {
        int offset = 8;
        if (extension.Length < 8 || !WelcomeNames.TryRead(extension, ref offset, out string? c2hName)
            || !WelcomeNames.TryRead(extension, ref offset, out string? h2cName) || offset != extension.Length)
        {
            throw new InvalidDataException($"the hub's Welcome has a malformed message-queue extension ({extension.Length} bytes)");
        }
        int messageSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(extension[4..]);
        MessageQueue? c2h = null, h2c = null;
        try
        {
            c2h = MessageQueue.Open(c2hName!, FileAccess.Write, nonBlocking: true);
            h2c = MessageQueue.Open(h2cName!, FileAccess.Read, nonBlocking: true);
            if (c2h.MaxMessageSize != messageSize || h2c.MaxMessageSize != messageSize)
            {
                throw new InvalidDataException($"the queues' message sizes ({c2h.MaxMessageSize}, {h2c.MaxMessageSize}) differ from Welcome's {messageSize}");
            }
            // Data frames carry up to the hub's maximum message size plus the longest channel.
            int maxFrame = checked(FrameHeader.Size + FrameHeader.MaxChannelLength + (int)welcome.MaxMessageSize);
            var path = new MessageQueueClientDataPath(control, c2h, h2c, maxFrame);
            path.SendFirstFrame();
            return path;
        }
        catch
        {
            c2h?.Dispose();
            h2c?.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Two non-blocking queues plus the control socket; waits poll the queue and the control socket together,
/// so a hub that goes, or <see cref="Shutdown"/>, ends them at once.
/// </summary>
internal sealed class MessageQueueClientDataPath : IClientDataPath
{
    private readonly UnixSocket _control;
    private readonly MessageQueue _c2h;
    private readonly MessageQueue _h2c;
    private readonly MessageQueueFrameWriter _writer;
    private readonly MessageQueueFrameReader _reader;
    private readonly SafeHandle[] _sendPoll;
    private readonly SafeHandle[] _receivePoll;
    private readonly PollEvents[] _sendEvents = [PollEvents.POLLOUT, PollEvents.POLLIN];
    private readonly PollEvents[] _receiveEvents = [PollEvents.POLLIN, PollEvents.POLLIN];
    private readonly object _receiveLock = new();
    private volatile bool _shutdown;
    private bool _disposed;

    public MessageQueueClientDataPath(UnixSocket control, MessageQueue c2h, MessageQueue h2c, int maxFrameLength)
    {
        _control = control;
        _c2h = c2h;
        _h2c = h2c;
        _writer = new MessageQueueFrameWriter(c2h);
        _reader = new MessageQueueFrameReader(h2c, maxFrameLength);
        _sendPoll = [c2h.Handle, control.Handle];
        _receivePoll = [h2c.Handle, control.Handle];
    }

    public TransportKind Kind => TransportKind.MessageQueue;

    /// <summary>Tells the hub both queues are open (it then removes their names): a Pong with sequence 0.</summary>
    public void SendFirstFrame()
    {
        Span<byte> pong = stackalloc byte[FrameHeader.Size];
        new FrameHeader(FrameType.Pong, FrameFlags.None, 0, 0, 0).Write(pong);
        SendAll(pong);
    }

    public void SendAll(ReadOnlySpan<byte> frames)
    {
        Span<PollEvents> ready = stackalloc PollEvents[2];
        while (!frames.IsEmpty || _writer.HasPending)
        {
            if (_shutdown)
            {
                throw new IpcException("mq_send", _c2h.Name, (int)Errno.EPIPE);
            }
            IoResult result = frames.IsEmpty ? _writer.Flush() : _writer.Write(frames);
            if (result.Status == IoStatus.Success)
            {
                frames = frames[result.BytesTransferred..];
                if (result.BytesTransferred > 0 && (!frames.IsEmpty || !_writer.HasPending))
                {
                    continue;
                }
            }
            else if (result.Status != IoStatus.WouldBlock)
            {
                throw new IpcException("mq_send", _c2h.Name, (int)Errno.EPIPE);
            }
            if (!frames.IsEmpty || _writer.HasPending)
            {
                FileDescriptor.Poll(_sendPoll, _sendEvents, ready, -1);
                if ((ready[0] & PollEvents.POLLOUT) == 0 && (ready[1] & ControlSocket.Ended) != 0)
                {
                    // The hub closed the connection (or Shutdown did): nobody will read this.
                    throw new IpcException("mq_send", _c2h.Name, (int)Errno.EPIPE);
                }
            }
        }
    }

    public IoResult Receive(Span<byte> buffer)
    {
        Span<PollEvents> ready = stackalloc PollEvents[2];
        lock (_receiveLock)
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                IoResult result = _reader.Read(buffer);
                if (result.Status != IoStatus.WouldBlock)
                {
                    return result;
                }
                if (_shutdown)
                {
                    return new IoResult(IoStatus.EndOfStream, 0);
                }
                FileDescriptor.Poll(_receivePoll, _receiveEvents, ready, -1);
                if ((ready[0] & PollEvents.POLLIN) != 0)
                {
                    continue;
                }
                if ((ready[1] & ControlSocket.Ended) != 0)
                {
                    // The control connection ended: take what the hub queued before (its Goodbye, a fatal Error), then end.
                    result = _reader.Read(buffer);
                    return result.Status == IoStatus.WouldBlock ? new IoResult(IoStatus.EndOfStream, 0) : result;
                }
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
        lock (_receiveLock)
        {
            // The reader's pooled buffers must outlive a receive still running.
            _disposed = true;
            _reader.Dispose();
        }
        _c2h.Dispose();
        _h2c.Dispose();
        _control.Dispose();
    }

    public override string ToString() => $"message queues {_c2h.Name}, {_h2c.Name}";
}
