namespace IpcCore.MessageQueues;

/// <summary>
/// Where a <see cref="MessageQueueFrameReader"/> receives its messages from: a POSIX message queue (see
/// <see cref="MessageQueueFrameReader(MessageQueue, int, int)"/>) or a stand-in.
/// </summary>
public interface IMessageSource
{
    /// <summary>
    /// Receives the next message (highest priority first) into <paramref name="buffer"/> if one is queued now;
    /// false when none is (EAGAIN). Never waits. Other failures throw (<see cref="IpcException"/>).
    /// </summary>
    bool TryReceive(Span<byte> buffer, out int length, out uint priority);
}
