using System.Runtime.CompilerServices;
using IpcCore;

namespace MyIpcBench.Raw;

/// <summary>One mq_send per message, blocking while the queue is full.</summary>
internal sealed class MessageQueueSink(MessageQueue queue) : MessageSink
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Send(ReadOnlySpan<byte> message) => queue.Send(message);
}
