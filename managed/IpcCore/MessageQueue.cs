using System.Diagnostics.CodeAnalysis;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// A POSIX message queue (mq_overview(7)): a kernel queue of discrete messages, each with a priority,
/// shared by name between processes. Receivers get the oldest message of the highest priority
/// first. The queue outlives every descriptor until <see cref="Unlink"/> removes its name.
/// </summary>
/// <remarks>
/// Sizes are fixed at creation. An unprivileged process may not create a queue deeper than
/// <see cref="MessageQueueLimits.MaxMessages"/> or with messages larger than
/// <see cref="MessageQueueLimits.MaxMessageSize"/> (here msg_max 10 and msgsize_max 8192 by default);
/// <see cref="Create"/> then fails with EINVAL and says so. The bytes of all queues of a user are also
/// capped by RLIMIT_MSGQUEUE (EMFILE). Send and receive allocate nothing.
/// </remarks>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Justification = "The POSIX name of the concept (mq_overview(7)); it is a queue, not a System.Collections one.")]
public sealed class MessageQueue : IDisposable
{
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const string SendOperation = "mq_timedsend";
    private const string ReceiveOperation = "mq_timedreceive";

    private readonly SafeMessageQueueHandle _handle;

    private MessageQueue(SafeMessageQueueHandle handle, string name, FileAccess access)
    {
        _handle = handle;
        Name = name;
        Access = access;
        // The sizes never change after creation (mq_setattr only touches O_NONBLOCK), so one read is enough.
        MessageQueueAttributes attributes = GetAttributes();
        MaxMessages = checked((int)attributes.MaxMessages);
        MaxMessageSize = checked((int)attributes.MaxMessageSize);
    }

    /// <summary>The queue's name, e.g. <c>/ipchub.t1.in</c>.</summary>
    public string Name { get; }

    /// <summary>Whether this descriptor may send, receive or both.</summary>
    public FileAccess Access { get; }

    /// <summary>The queue depth (mq_maxmsg) of the queue as it exists, which may differ from what a non-exclusive create asked for.</summary>
    public int MaxMessages { get; }

    /// <summary>The largest message in bytes (mq_msgsize); receive buffers must be at least this long.</summary>
    public int MaxMessageSize { get; }

    /// <summary>The descriptor: pollable (readable when a message is queued, writable when there is room).</summary>
    public SafeMessageQueueHandle Handle => _handle;

    /// <summary>This system's limits, read from /proc/sys/fs/mqueue on every call (an administrator may change them).</summary>
    public static unsafe MessageQueueLimits Limits
    {
        get
        {
            MqLimits limits;
            IpcError.Check(IpcNative.MqGetLimits(&limits), "read", "/proc/sys/fs/mqueue");
            return new MessageQueueLimits(limits.MsgMax, limits.MsgSizeMax, limits.MsgDefault, limits.MsgSizeDefault, limits.QueuesMax);
        }
    }

    /// <summary>Whether sends and receives on this descriptor fail with EAGAIN instead of waiting.</summary>
    public bool NonBlocking
    {
        get => GetAttributes().NonBlocking;
        set
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            IpcError.Check(IpcNative.MqSetNonBlocking(_handle, value ? 1 : 0), "mq_setattr", Name);
        }
    }

    /// <summary>
    /// Creates the queue <paramref name="name"/> holding up to <paramref name="maxMessages"/> messages of
    /// up to <paramref name="maxMessageSize"/> bytes, and opens it.
    /// </summary>
    /// <param name="mode">The permission bits, applied exactly (the umask is not applied).</param>
    /// <param name="exclusive">Fail with EEXIST if the queue exists; when false an existing queue is opened as it is.</param>
    /// <exception cref="IpcException">EEXIST; EINVAL when the sizes exceed <see cref="Limits"/>; EACCES; EMFILE when RLIMIT_MSGQUEUE is used up.</exception>
    public static MessageQueue Create(
        string name,
        int maxMessages,
        int maxMessageSize,
        UnixFileMode mode = DefaultMode,
        bool exclusive = true,
        FileAccess access = FileAccess.ReadWrite,
        bool nonBlocking = false)
    {
        PosixName.Validate(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageSize);

        int flags = OpenFlagsFor(access, nonBlocking) | (int)OpenFlags.O_CREAT | (exclusive ? (int)OpenFlags.O_EXCL : 0);
        int mqd = IpcNative.MqOpen(name, flags, (int)mode, maxMessages, maxMessageSize);
        if (mqd == -(int)Errno.EINVAL)
        {
            // The name was validated above, so EINVAL is about the sizes: say which limits apply.
            throw LimitsExceeded(mqd, name);
        }
        IpcError.Check(mqd, "mq_open", name);
        return Wrap(mqd, name, access);
    }

    /// <summary>Opens the existing queue <paramref name="name"/>.</summary>
    /// <exception cref="IpcException">ENOENT when there is no such queue; EACCES.</exception>
    public static MessageQueue Open(string name, FileAccess access = FileAccess.ReadWrite, bool nonBlocking = false)
    {
        PosixName.Validate(name, nameof(name));
        int mqd = IpcError.Check(IpcNative.MqOpen(name, OpenFlagsFor(access, nonBlocking), 0, 0, 0), "mq_open", name);
        return Wrap(mqd, name, access);
    }

    /// <summary>Removes the name <paramref name="name"/>; the queue itself lives on until its last descriptor closes.</summary>
    /// <exception cref="IpcException">ENOENT when there is no such queue.</exception>
    public static void Unlink(string name)
    {
        PosixName.Validate(name, nameof(name));
        IpcError.Check(IpcNative.MqUnlink(name), "mq_unlink", name);
    }

    /// <summary>Removes the name <paramref name="name"/>; false when it did not exist (any other failure throws).</summary>
    public static bool TryUnlink(string name)
    {
        PosixName.Validate(name, nameof(name));
        int result = IpcNative.MqUnlink(name);
        if (result == -(int)Errno.ENOENT)
        {
            return false;
        }
        IpcError.Check(result, "mq_unlink", name);
        return true;
    }

    /// <summary>
    /// Sends <paramref name="message"/> at <paramref name="priority"/> (0 is lowest), waiting for room
    /// up to <paramref name="timeout"/> (null: forever).
    /// </summary>
    /// <exception cref="IpcException">EMSGSIZE when the message is longer than <see cref="MaxMessageSize"/>; ETIMEDOUT; EAGAIN when non-blocking and full.</exception>
    public void Send(ReadOnlySpan<byte> message, uint priority = 0, TimeSpan? timeout = null)
    {
        (long ns, int kind) = IpcTimeout.From(timeout);
        IpcError.Check(SendCore(message, priority, ns, kind), SendOperation, Name);
    }

    /// <summary>Sends <paramref name="message"/>, waiting for room until the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/> (see <see cref="MonotonicClock"/>).</summary>
    public void Send(ReadOnlySpan<byte> message, uint priority, long deadlineNs)
    {
        (long ns, int kind) = IpcTimeout.At(deadlineNs);
        IpcError.Check(SendCore(message, priority, ns, kind), SendOperation, Name);
    }

    /// <summary>
    /// Sends <paramref name="message"/> if there is room within <paramref name="timeout"/> (default: only if
    /// there is room now). Returns false when the queue stayed full (EAGAIN, ETIMEDOUT); other failures throw.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> message, uint priority = 0, TimeSpan timeout = default)
    {
        (long ns, int kind) = IpcTimeout.From(timeout);
        return Sent(SendCore(message, priority, ns, kind));
    }

    /// <summary>Sends <paramref name="message"/> if there is room before the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/>; false when the queue stayed full.</summary>
    public bool TrySend(ReadOnlySpan<byte> message, uint priority, long deadlineNs)
    {
        (long ns, int kind) = IpcTimeout.At(deadlineNs);
        return Sent(SendCore(message, priority, ns, kind));
    }

    /// <summary>
    /// Receives the oldest message of the highest priority into <paramref name="buffer"/>, waiting up to
    /// <paramref name="timeout"/> (null: forever). Returns the message length.
    /// </summary>
    /// <param name="buffer">At least <see cref="MaxMessageSize"/> bytes (the kernel refuses smaller buffers).</param>
    /// <exception cref="IpcException">ETIMEDOUT; EAGAIN when non-blocking and empty.</exception>
    public int Receive(Span<byte> buffer, out uint priority, TimeSpan? timeout = null)
    {
        (long ns, int kind) = IpcTimeout.From(timeout);
        return IpcError.Check(ReceiveCore(buffer, out priority, ns, kind), ReceiveOperation, Name);
    }

    /// <summary>Receives a message, waiting until the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/>. Returns its length.</summary>
    public int Receive(Span<byte> buffer, out uint priority, long deadlineNs)
    {
        (long ns, int kind) = IpcTimeout.At(deadlineNs);
        return IpcError.Check(ReceiveCore(buffer, out priority, ns, kind), ReceiveOperation, Name);
    }

    /// <summary>
    /// Receives a message if one arrives within <paramref name="timeout"/> (default: only if one is queued
    /// now). Returns false when none did (EAGAIN, ETIMEDOUT); other failures throw.
    /// </summary>
    public bool TryReceive(Span<byte> buffer, out int length, out uint priority, TimeSpan timeout = default)
    {
        (long ns, int kind) = IpcTimeout.From(timeout);
        return Received(ReceiveCore(buffer, out priority, ns, kind), out length);
    }

    /// <summary>Receives a message if one arrives before the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/>; false when none did.</summary>
    public bool TryReceive(Span<byte> buffer, out int length, out uint priority, long deadlineNs)
    {
        (long ns, int kind) = IpcTimeout.At(deadlineNs);
        return Received(ReceiveCore(buffer, out priority, ns, kind), out length);
    }

    /// <summary>The queue's sizes, its current message count and this descriptor's O_NONBLOCK.</summary>
    public unsafe MessageQueueAttributes GetAttributes()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        MqAttr attr;
        IpcError.Check(IpcNative.MqGetAttr(_handle, &attr), "mq_getattr", Name);
        return new MessageQueueAttributes(attr.MaxMsg, attr.MsgSize, attr.CurMsgs, (attr.Flags & (long)OpenFlags.O_NONBLOCK) != 0);
    }

    /// <summary>Closes this descriptor; the queue and its messages remain until unlinked and closed everywhere.</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"mq {Name}";

    private unsafe int SendCore(ReadOnlySpan<byte> message, uint priority, long timeoutNs, int timeoutKind)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        fixed (byte* p = message)
        {
            return IpcNative.MqSend(_handle, p, message.Length, priority, timeoutNs, timeoutKind);
        }
    }

    private unsafe int ReceiveCore(Span<byte> buffer, out uint priority, long timeoutNs, int timeoutKind)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (buffer.Length < MaxMessageSize)
        {
            ThrowBufferTooSmall(buffer.Length, nameof(buffer));
        }
        uint prio = 0;
        int result;
        fixed (byte* p = buffer)
        {
            result = IpcNative.MqReceive(_handle, p, buffer.Length, &prio, timeoutNs, timeoutKind);
        }
        priority = prio;
        return result;
    }

    private bool Sent(int result)
    {
        if (result < 0)
        {
            if (!IsWouldWait(result))
            {
                IpcError.Throw(result, SendOperation, Name);
            }
            return false;
        }
        return true;
    }

    private bool Received(int result, out int length)
    {
        if (result < 0)
        {
            if (!IsWouldWait(result))
            {
                IpcError.Throw(result, ReceiveOperation, Name);
            }
            length = 0;
            return false;
        }
        length = result;
        return true;
    }

    // EAGAIN (non-blocking) and ETIMEDOUT (timeout passed) both mean "not now", the Try* false.
    private static bool IsWouldWait(int result) => result == -(int)Errno.EAGAIN || result == -(int)Errno.ETIMEDOUT;

    private void ThrowBufferTooSmall(int length, string paramName)
        => throw new ArgumentException(
            $"The receive buffer ({length} bytes) is smaller than the message size of {Name} ({MaxMessageSize} bytes).", paramName);

    private static int OpenFlagsFor(FileAccess access, bool nonBlocking)
    {
        int flags = access switch
        {
            FileAccess.Read => (int)OpenFlags.O_RDONLY,
            FileAccess.Write => (int)OpenFlags.O_WRONLY,
            FileAccess.ReadWrite => (int)OpenFlags.O_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, "Read, Write or ReadWrite."),
        };
        return nonBlocking ? flags | (int)OpenFlags.O_NONBLOCK : flags;
    }

    private static MessageQueue Wrap(int mqd, string name, FileAccess access)
    {
        var handle = new SafeMessageQueueHandle(mqd);
        try
        {
            return new MessageQueue(handle, name, access);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static IpcException LimitsExceeded(int negativeErrno, string name)
    {
        IpcException plain = IpcError.Create(negativeErrno, "mq_open", name);
        MessageQueueLimits limits = Limits;
        return new IpcException(plain.Operation, name, plain.ErrorNumber,
            $"{plain.Message} (limit: msg_max {limits.MaxMessages}, msgsize_max {limits.MaxMessageSize})");
    }
}
