namespace IpcCore.MessageQueues;

/// <summary>
/// Where a <see cref="MessageQueueFrameWriter"/> sends its messages: a POSIX message queue (see
/// <see cref="MessageQueueFrameWriter(MessageQueue)"/>) or a stand-in.
/// </summary>
public interface IMessageSink
{
    /// <summary>
    /// Sends <paramref name="message"/> at mq priority <paramref name="priority"/> if there is room now; false
    /// when the queue is full (EAGAIN). Never waits. Other failures throw (<see cref="IpcException"/>).
    /// </summary>
    bool TrySend(ReadOnlySpan<byte> message, uint priority);
}
