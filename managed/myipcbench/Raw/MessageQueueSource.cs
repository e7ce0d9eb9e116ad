using System.Globalization;
using System.Runtime.CompilerServices;
using IpcCore;

namespace MyIpcBench.Raw;

/// <summary>One mq_receive per message; the first one bounded (the peer may never come), the rest plain blocking calls.</summary>
internal sealed class MessageQueueSource : MessageSource
{
    private readonly MessageQueue _queue;
    private readonly byte[] _buffer;
    private readonly int _size;
    private bool _received;

    public MessageQueueSource(MessageQueue queue, int messageSize)
    {
        _queue = queue;
        _size = messageSize;
        // mq_receive refuses buffers shorter than the queue's message size.
        _buffer = new byte[Math.Max(queue.MaxMessageSize, messageSize)];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override ReadOnlySpan<byte> Next()
    {
        int length = _received ? _queue.Receive(_buffer, out _) : ReceiveFirst();
        if (length != _size)
        {
            ThrowBadLength(length);
        }
        return new ReadOnlySpan<byte>(_buffer, 0, _size);
    }

    private int ReceiveFirst()
    {
        if (!_queue.TryReceive(_buffer, out int length, out _, RawTimeouts.PeerDeadlineNs()))
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"mq_timedreceive('{_queue.Name}'): nothing arrived within {RawTimeouts.Peer.TotalSeconds:F0} s"));
        }
        _received = true;
        return length;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadLength(int length)
        => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"mq_receive('{_queue.Name}'): a {length}-byte message, expected {_size} bytes"));
}
