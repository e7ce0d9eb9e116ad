namespace IpcCore.MessageQueues;

/// <summary>Adapts a <see cref="MessageQueue"/> to both interfaces; allocated once per writer or reader.</summary>
internal sealed class MessageQueueEndpoint(MessageQueue queue) : IMessageSink, IMessageSource
{
    // TrySend/TryReceive with the default zero timeout look once and never wait, whatever O_NONBLOCK is.
    public bool TrySend(ReadOnlySpan<byte> message, uint priority) => queue.TrySend(message, priority);

    public bool TryReceive(Span<byte> buffer, out int length, out uint priority)
        => queue.TryReceive(buffer, out length, out priority);
}
