using System.Globalization;
using System.Runtime.InteropServices;
using IpcCore.MessageQueues;
using IpcCore.Native;
using IpcCore.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcCore.Hub.Transports;

/// <summary>
/// The POSIX message-queue transport: per client two queues, <c>/ipchub.&lt;hubpid&gt;.&lt;clientid&gt;.c2h</c> and
/// <c>.h2c</c> (mode 0600, created exclusively, depth and message size from the hub's options: by default
/// the unprivileged limits, 10 × 8192). Frames travel as a byte stream per mq priority (a frame's priority
/// is its messages' priority), split into as many messages as they need and reassembled
/// (<see cref="MessageQueueFrameWriter"/>, <see cref="MessageQueueFrameReader"/>). The hub polls the mq
/// descriptors in its epoll set. The names are removed once the client's first frame shows it opened both.
/// </summary>
public sealed partial class MessageQueueTransport : IHubTransport
{
    private readonly int _depth;
    private readonly int _messageSize;
    private readonly int _maxFrameLength;
    private readonly int _hubPid = ProcessInfo.CurrentPid;

    /// <param name="depth">Messages per queue.</param>
    /// <param name="messageSize">Bytes per message.</param>
    /// <param name="maxFrameLength">The longest frame either side sends (the hub's maximum Data frame).</param>
    /// <param name="maxClients">Used to size RLIMIT_MSGQUEUE: the hub raises it (as far as it may) to fit this many mqueue clients.</param>
    /// <param name="logger">Where the limit is reported.</param>
    public MessageQueueTransport(int depth, int messageSize, int maxFrameLength, int maxClients, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        ArgumentOutOfRangeException.ThrowIfLessThan(messageSize, 64);
        _depth = depth;
        _messageSize = messageSize;
        _maxFrameLength = maxFrameLength;
        // The kernel charges a queue its messages plus two list/tree nodes per message (about 96 bytes).
        BytesPerClient = 2L * depth * (messageSize + 96L);
        long wanted = BytesPerClient * Math.Max(1, maxClients);
        try
        {
            ResourceLimits.TryRaise(ResourceLimit.MessageQueueBytes, wanted, out long granted);
            Limit = granted;
        }
        catch (IpcException)
        {
            Limit = 0;
        }
        if (logger is not null)
        {
            LogCapacity(logger, depth, messageSize, Limit < 0 ? "unlimited" : Limit.ToString(CultureInfo.InvariantCulture),
                Limit < 0 ? maxClients : Limit / BytesPerClient);
        }
    }

    public TransportKind Kind => TransportKind.MessageQueue;

    public string Name => "mqueue";

    /// <summary>About how much of RLIMIT_MSGQUEUE one mqueue client's two queues take.</summary>
    public long BytesPerClient { get; }

    /// <summary>RLIMIT_MSGQUEUE (soft) after the hub raised it; -1 unlimited.</summary>
    public long Limit { get; }

    public IClientDataPath CreateDataPath(ulong clientId, UnixSocket control)
    {
        ArgumentNullException.ThrowIfNull(control);
        string c2h = HubObjectNames.PosixName(_hubPid, clientId, HubObjectNames.ClientToHub);
        string h2c = HubObjectNames.PosixName(_hubPid, clientId, HubObjectNames.HubToClient);
        try
        {
            return MessageQueueDataPath.Create(c2h, h2c, _depth, _messageSize, _maxFrameLength);
        }
        catch (IpcException e) when (e.ErrorNumber == (int)Errno.EMFILE)
        {
            throw new IpcException(e.Operation, e.ObjectName, e.ErrorNumber, string.Create(CultureInfo.InvariantCulture,
                $"{e.Message}: the user's RLIMIT_MSGQUEUE ({(Limit < 0 ? "unlimited" : Limit + " bytes")}) is used up, and a message-queue client takes about {BytesPerClient} bytes; raise it (ulimit -q) or lower --mq-depth/--mq-message-size"));
        }
    }

    public void Dispose()
    {
        // Every queue belongs to a data path, which removes it.
    }

    [LoggerMessage(EventId = 61, Level = LogLevel.Information,
        Message = "message queues: {Depth} × {MessageSize} bytes per queue; RLIMIT_MSGQUEUE {Limit} bytes: room for about {Clients} mqueue clients")]
    private static partial void LogCapacity(ILogger logger, int depth, int messageSize, string limit, long clients);
}

/// <summary>
/// The hub's side of one message-queue client: receiver of c2h, sender of h2c, both non-blocking. The reader
/// may hold complete frames after the queue ran dry (a message carries several), so the loop asks
/// <see cref="IPolledDataPath.HasInput"/> after every wait, as for the rings.
/// </summary>
internal sealed class MessageQueueDataPath : IClientDataPath, IPolledDataPath
{
    private readonly MessageQueue _c2h;
    private readonly MessageQueue _h2c;
    private readonly MessageQueueFrameReader _reader;
    private readonly MessageQueueFrameWriter _writer;
    private readonly byte[] _welcomeExtension;
    private bool _unlinked;
    private bool _disposed;

    private MessageQueueDataPath(MessageQueue c2h, MessageQueue h2c, int maxFrameLength, byte[] welcomeExtension)
    {
        _c2h = c2h;
        _h2c = h2c;
        _reader = new MessageQueueFrameReader(c2h, maxFrameLength);
        _writer = new MessageQueueFrameWriter(h2c);
        _welcomeExtension = welcomeExtension;
    }

    public static MessageQueueDataPath Create(string c2hName, string h2cName, int depth, int messageSize, int maxFrameLength)
    {
        MessageQueue? c2h = null, h2c = null;
        try
        {
            UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            c2h = MessageQueue.Create(c2hName, depth, messageSize, mode, exclusive: true, FileAccess.Read, nonBlocking: true);
            h2c = MessageQueue.Create(h2cName, depth, messageSize, mode, exclusive: true, FileAccess.Write, nonBlocking: true);
            // u32 depth, u32 message size, then the two names (u16 length + UTF-8 each).
            var ext = new List<byte>(96);
            WelcomeExtensions.AppendUInt32(ext, (uint)depth);
            WelcomeExtensions.AppendUInt32(ext, (uint)messageSize);
            WelcomeExtensions.AppendName(ext, c2hName);
            WelcomeExtensions.AppendName(ext, h2cName);
            return new MessageQueueDataPath(c2h, h2c, maxFrameLength, ext.ToArray());
        }
        catch
        {
            if (c2h is not null)
            {
                c2h.Dispose();
                MessageQueue.TryUnlink(c2hName);
            }
            if (h2c is not null)
            {
                h2c.Dispose();
                MessageQueue.TryUnlink(h2cName);
            }
            throw;
        }
    }

    public TransportKind Kind => TransportKind.MessageQueue;

    public bool SharesControlSocket => false;

    public SafeHandle ReadHandle => _c2h.Handle;

    public SafeHandle WriteHandle => _h2c.Handle;

    public ReadOnlySpan<byte> WelcomeExtension => _welcomeExtension;

    public IReadOnlyList<SafeHandle> WelcomeDescriptors => [];

    public bool UsesDoorbell => false;

    public bool HasInput => _reader.HasBufferedFrames;

    public bool HasSpace => false; // POLLOUT on h2c says it

    public bool HasPendingOutput => _writer.HasPending;

    public void WelcomeSent()
    {
    }

    public IoResult Read(Span<byte> destination)
    {
        IoResult result = _reader.Read(destination);
        if (result.Status == IoStatus.Success && !_unlinked)
        {
            // The client's first frame came through c2h: it has opened both queues.
            Unlink();
        }
        return result;
    }

    public IoResult Write(ReadOnlySpan<byte> source) => _writer.Write(source);

    public IoResult FlushOutput() => _writer.Flush();

    public void DrainDoorbell()
    {
    }

    public bool PrepareToSleep(bool wantRead, bool wantWrite) => !(wantRead && _reader.HasBufferedFrames);

    public void Awake()
    {
    }

    private void Unlink()
    {
        _unlinked = true;
        MessageQueue.TryUnlink(_c2h.Name);
        MessageQueue.TryUnlink(_h2c.Name);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!_unlinked)
        {
            Unlink();
        }
        _reader.Dispose();
        _c2h.Dispose();
        _h2c.Dispose();
    }

    public override string ToString() => $"message queues {_c2h.Name}, {_h2c.Name}";
}
