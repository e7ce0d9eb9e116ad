using System.Buffers;
using System.Buffers.Binary;
using IpcCore.Protocol;

namespace IpcCore.MessageQueues;

/// <summary>
/// Receives the messages a <see cref="MessageQueueFrameWriter"/> sent over one POSIX message queue and
/// returns the frames as a byte stream, never waiting.
/// </summary>
/// <remarks>
/// <para>
/// The messages of each mq priority form one byte stream (a frame may span messages, a message may hold
/// several frames). The reader keeps a buffer per priority with a frame in progress and releases a frame's
/// bytes only once the frame is complete, in the order frames complete: frames of different priorities
/// interleave only at frame boundaries, frames of one priority stay in order, and a higher-priority frame
/// may overtake a lower-priority one that is still arriving. A frame partly copied out is finished before
/// any other bytes are returned, and no message is received while complete bytes are still waiting, so each
/// buffer holds at most one frame in progress plus one message (about <c>maxFrameLength</c>).
/// </para>
/// <para>
/// Malformed streams: the reader looks only at the magic and the length of each header (the protocol layer
/// validates the rest). When a stream's next header lacks the magic "IPCH" (checked from its first byte on)
/// or announces a frame longer than <c>maxFrameLength</c>, the reader stops framing that stream: from then
/// on its bytes are returned as they arrive, so it never buffers what a broken or hostile peer merely
/// announces, and <see cref="FrameReader.TryParse"/> above reports the error (BadMagic, PayloadTooLarge, ...).
/// </para>
/// <para>
/// Buffers come from <see cref="ArrayPool{T}.Shared"/> and are reused; nothing is allocated per message once
/// warm. Dispose returns them. One thread at a time.
/// </para>
/// </remarks>
public sealed class MessageQueueFrameReader : IDisposable
{
    /// <summary>The default of the constructors' <c>maxStreams</c>.</summary>
    public const int DefaultMaxStreams = 64;

    // An idle stream keeps a buffer up to this size; a larger one (it held a big frame) goes back to the pool.
    private const int RetainedBufferSize = 64 * 1024;
    private const int MaxSpareStreams = 4;

    private readonly IMessageSource _source;
    private readonly byte[] _receiveBuffer;
    private readonly int _maxFrameLength;
    private readonly int _maxStreams;
    private readonly int _maxBufferSize;
    private readonly List<PriorityStream> _streams = [];
    private readonly Stack<PriorityStream> _spare = new();
    private PriorityStream? _ready;
    private bool _disposed;

    /// <summary>A reader receiving from <paramref name="queue"/> (its <see cref="MessageQueue.MaxMessageSize"/> is the message size).</summary>
    /// <param name="maxFrameLength">The longest frame framed (e.g. <see cref="ProtocolLimits.MaxFrameLength"/>); a header announcing more switches its stream to pass-through.</param>
    /// <param name="maxStreams">How many priorities may have bytes buffered at once (see <see cref="MessageQueueFrameReader(IMessageSource, int, int, int)"/>).</param>
    public MessageQueueFrameReader(MessageQueue queue, int maxFrameLength, int maxStreams = DefaultMaxStreams)
        : this(new MessageQueueEndpoint(queue ?? throw new ArgumentNullException(nameof(queue))), queue.MaxMessageSize, maxFrameLength, maxStreams)
    {
    }

    /// <summary>A reader receiving from <paramref name="source"/>.</summary>
    /// <param name="messageSize">The queue's message size (mq_msgsize): the receive buffer's length.</param>
    /// <param name="maxFrameLength">The longest frame framed; a header announcing more switches its stream to pass-through.</param>
    /// <param name="maxStreams">
    /// How many priorities may have bytes buffered at once, which bounds memory to about
    /// <paramref name="maxStreams"/> × <paramref name="maxFrameLength"/>. An honest writer has at most the queue
    /// depth + 1 frames partly received (each has a message still queued, but for the one being written), so
    /// keep this above the queue depth. A message that would open one more stream throws <see cref="InvalidDataException"/>.
    /// </param>
    public MessageQueueFrameReader(IMessageSource source, int messageSize, int maxFrameLength, int maxStreams = DefaultMaxStreams)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, FrameHeader.Size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStreams);
        _source = source;
        _receiveBuffer = new byte[messageSize];
        _maxFrameLength = maxFrameLength;
        _maxStreams = maxStreams;
        // A stream holds less than one frame when a message arrives (complete bytes are drained first).
        _maxBufferSize = (int)Math.Min(Array.MaxLength, (long)maxFrameLength + messageSize);
    }

    /// <summary>The receive buffer's length (the queue's message size).</summary>
    public int MessageSize => _receiveBuffer.Length;

    /// <summary>The longest frame this reader frames.</summary>
    public int MaxFrameLength => _maxFrameLength;

    /// <summary>
    /// Whether frame bytes are ready without another receive: call <see cref="Read"/> again before waiting
    /// for POLLIN (the queue may be empty while a received message still holds frames).
    /// </summary>
    public bool HasBufferedFrames => _ready is not null;

    /// <summary>
    /// Copies ready frame bytes into <paramref name="destination"/>, receiving messages while it has room
    /// and the queue has messages. Success with the bytes copied (Success(0) for an empty destination), or
    /// WouldBlock when no frame is complete and the queue is empty.
    /// </summary>
    /// <exception cref="IpcException">The receive failed for another reason than an empty queue (e.g. EBADF, EMSGSIZE when the message size is wrong).</exception>
    /// <exception cref="InvalidDataException">More than <c>maxStreams</c> priorities would have bytes buffered.</exception>
    public IoResult Read(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.IsEmpty)
        {
            return IoResult.Transferred(0);
        }
        int total = 0;
        while (true)
        {
            if (_ready is { } stream)
            {
                total += stream.Take(destination[total..]);
                if (stream.HasReady)
                {
                    break; // the destination is full
                }
                _ready = null;
                if (stream.IsIdle)
                {
                    Retire(stream);
                }
                if (total == destination.Length)
                {
                    break;
                }
            }
            if (!_source.TryReceive(_receiveBuffer, out int length, out uint priority))
            {
                break;
            }
            PriorityStream target = StreamFor(priority);
            target.Append(_receiveBuffer.AsSpan(0, length), _maxBufferSize);
            target.Scan(_maxFrameLength);
            if (target.HasReady)
            {
                _ready = target;
            }
            else if (target.IsIdle)
            {
                Retire(target); // an empty message opened it
            }
        }
        return total != 0 ? IoResult.Transferred(total) : IoResult.Blocked;
    }

    /// <summary>Returns the buffers to the pool; buffered bytes are dropped.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _ready = null;
        foreach (PriorityStream stream in _streams)
        {
            stream.ReleaseBuffer();
        }
        _streams.Clear();
        while (_spare.TryPop(out PriorityStream? spare))
        {
            spare.ReleaseBuffer();
        }
    }

    private PriorityStream StreamFor(uint priority)
    {
        // Few priorities are in use at once: a linear search beats hashing here.
        foreach (PriorityStream candidate in _streams)
        {
            if (candidate.Priority == priority)
            {
                return candidate;
            }
        }
        if (_streams.Count >= _maxStreams)
        {
            throw new InvalidDataException(
                $"A message of priority {priority} arrived while {_streams.Count} priorities have frames in progress (the limit is {_maxStreams}).");
        }
        PriorityStream stream = _spare.TryPop(out PriorityStream? spare) ? spare : new PriorityStream();
        stream.Priority = priority;
        _streams.Add(stream);
        return stream;
    }

    // A stream with nothing buffered leaves the list (so the list only holds priorities in progress); a few
    // are kept with their small buffers for reuse.
    private void Retire(PriorityStream stream)
    {
        _streams.Remove(stream);
        if (stream.Capacity > RetainedBufferSize || _spare.Count >= MaxSpareStreams)
        {
            stream.ReleaseBuffer();
        }
        if (_spare.Count < MaxSpareStreams)
        {
            _spare.Push(stream);
        }
    }

    /// <summary>
    /// The bytes of one mq priority: [start, ready) are complete frames (or passed-through bytes) to return,
    /// [ready, end) the frame in progress.
    /// </summary>
    private sealed class PriorityStream
    {
        private byte[] _buffer = [];
        private int _start;
        private int _readyEnd;
        private int _end;
        private bool _passThrough;

        public uint Priority { get; set; }

        public bool HasReady => _readyEnd != _start;

        // Nothing buffered and still framing: the stream can be forgotten. A pass-through stream stays.
        public bool IsIdle => _end == 0 && !_passThrough;

        public int Capacity => _buffer.Length;

        public int Take(Span<byte> destination)
        {
            int n = Math.Min(_readyEnd - _start, destination.Length);
            _buffer.AsSpan(_start, n).CopyTo(destination);
            _start += n;
            if (_start == _end)
            {
                _start = _readyEnd = _end = 0;
            }
            return n;
        }

        public void Append(ReadOnlySpan<byte> bytes, int maxBufferSize)
        {
            if (_end + bytes.Length > _buffer.Length)
            {
                MakeRoom(bytes.Length, maxBufferSize);
            }
            bytes.CopyTo(_buffer.AsSpan(_end));
            _end += bytes.Length;
        }

        // Moves [ready, end) over complete frames; switches to pass-through at a malformed header.
        public void Scan(int maxFrameLength)
        {
            while (!_passThrough)
            {
                ReadOnlySpan<byte> next = _buffer.AsSpan(_readyEnd, _end - _readyEnd);
                if (next.IsEmpty)
                {
                    return;
                }
                if (!StartsWithMagic(next))
                {
                    _passThrough = true;
                    break;
                }
                if (next.Length < FrameHeader.Size)
                {
                    return;
                }
                long length = FrameHeader.Size + (long)BinaryPrimitives.ReadUInt16LittleEndian(next[8..])
                    + BinaryPrimitives.ReadUInt32LittleEndian(next[12..]);
                if (length > maxFrameLength)
                {
                    _passThrough = true;
                    break;
                }
                if (next.Length < length)
                {
                    return;
                }
                _readyEnd += (int)length;
            }
            _readyEnd = _end;
        }

        public void ReleaseBuffer()
        {
            if (_buffer.Length != 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            _buffer = [];
            _start = _readyEnd = _end = 0;
            _passThrough = false;
        }

        private void MakeRoom(int incoming, int maxBufferSize)
        {
            // Only the frame in progress is left when a message arrives; slide it to the front first.
            int kept = _end - _start;
            if (kept + incoming <= _buffer.Length)
            {
                _buffer.AsSpan(_start, kept).CopyTo(_buffer);
            }
            else
            {
                int size = (int)Math.Clamp(2L * _buffer.Length, kept + incoming, Math.Max(maxBufferSize, kept + incoming));
                byte[] larger = ArrayPool<byte>.Shared.Rent(size);
                _buffer.AsSpan(_start, kept).CopyTo(larger);
                if (_buffer.Length != 0)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }
                _buffer = larger;
            }
            _readyEnd -= _start;
            _end = kept;
            _start = 0;
        }

        private static bool StartsWithMagic(ReadOnlySpan<byte> bytes)
        {
            ReadOnlySpan<byte> magic = "IPCH"u8;
            int n = Math.Min(bytes.Length, magic.Length);
            return bytes[..n].SequenceEqual(magic[..n]);
        }
    }
}
