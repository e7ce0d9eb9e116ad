using System.Buffers.Binary;
using IpcCore.Protocol;

namespace IpcCore.MessageQueues;

/// <summary>
/// Sends a byte stream of whole frames over one POSIX message queue (the message-queue transport), never
/// waiting. Every message carries bytes of frames of one priority and is sent at that mq priority (the
/// header's <see cref="FrameHeader.Priority"/>), so a higher-priority frame may overtake lower-priority
/// messages still queued; <see cref="MessageQueueFrameReader"/> puts the frames back together.
/// </summary>
/// <remarks>
/// <para>
/// Consecutive frames of one priority are packed into a message up to the message size; a longer frame is
/// split across consecutive messages. A frame's messages are all sent, in order, before any byte of the
/// next frame, so per priority the messages form a plain byte stream and at most one frame per priority is
/// ever partly received. A message is sent when it is full, when the next frame has another priority, and
/// at the end of every <see cref="Write"/> (the writer never sits on bytes it could send).
/// </para>
/// <para>
/// When the queue is full the writer keeps at most one assembled message and up to one frame header
/// (bytes it reported as taken); <see cref="HasPending"/> says so, and <see cref="Flush"/> (or the next
/// <see cref="Write"/>) sends them once the queue has room (POLLOUT). A header the caller has handed over
/// only partly is held until the rest comes: its priority decides which message its bytes go into.
/// </para>
/// <para>Allocates only at construction. One thread at a time.</para>
/// </remarks>
public sealed class MessageQueueFrameWriter
{
    private readonly IMessageSink _sink;
    private readonly byte[] _message;
    private int _messageLength;
    private uint _messagePriority;

    // The current frame's header: filled from the caller's bytes, then copied into messages.
    private readonly byte[] _header = new byte[FrameHeader.Size];
    private int _headerLength;
    private int _headerPlaced;
    private uint _framePriority;
    private long _bodyRemaining;
    private bool _faulted;

    /// <summary>A writer sending to <paramref name="queue"/>, in messages of up to its <see cref="MessageQueue.MaxMessageSize"/>.</summary>
    public MessageQueueFrameWriter(MessageQueue queue)
        : this(new MessageQueueEndpoint(queue ?? throw new ArgumentNullException(nameof(queue))), queue.MaxMessageSize)
    {
    }

    /// <summary>A writer sending to <paramref name="sink"/> in messages of up to <paramref name="messageSize"/> bytes (the queue's mq_msgsize).</summary>
    public MessageQueueFrameWriter(IMessageSink sink, int messageSize)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messageSize);
        _sink = sink;
        _message = new byte[messageSize];
    }

    /// <summary>The largest message this writer sends.</summary>
    public int MessageSize => _message.Length;

    /// <summary>
    /// Whether bytes already taken wait for room in the queue (an assembled message, or a header not yet
    /// copied into one): wait for POLLOUT, then call <see cref="Flush"/> or <see cref="Write"/>. A partial
    /// header waiting for its rest from the caller does not count; only more bytes can move it.
    /// </summary>
    public bool HasPending => _messageLength != 0 || (_headerLength == FrameHeader.Size && _headerPlaced < FrameHeader.Size);

    /// <summary>
    /// Takes bytes of a stream of whole frames, split at any point (even inside a header), and sends them.
    /// First sends what is pending. Returns Success with the bytes taken (all of them unless the queue
    /// filled up; <see cref="HasPending"/> then says whether some of them wait here), or WouldBlock when the
    /// queue is full and nothing could be taken. Taken bytes are never lost or reordered.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not a frame stream (a header without the magic, or a priority over <see cref="FrameHeader.MaxPriority"/>); the writer is then unusable.</exception>
    /// <exception cref="IpcException">The send failed for another reason than a full queue (e.g. EBADF).</exception>
    public IoResult Write(ReadOnlySpan<byte> frames)
    {
        ThrowIfFaulted();
        if (_messageLength != 0 && !SendMessage())
        {
            return IoResult.Blocked;
        }

        int taken = 0;
        while (true)
        {
            if (_headerLength < FrameHeader.Size)
            {
                int n = Math.Min(FrameHeader.Size - _headerLength, frames.Length - taken);
                if (n == 0)
                {
                    break;
                }
                frames.Slice(taken, n).CopyTo(_header.AsSpan(_headerLength));
                _headerLength += n;
                taken += n;
                if (_headerLength < FrameHeader.Size)
                {
                    break;
                }
                string? error = BeginFrame();
                if (error is not null)
                {
                    _faulted = true;
                    throw new ArgumentException($"The bytes are not a frame stream: {error}.", nameof(frames));
                }
            }

            if (_headerPlaced < FrameHeader.Size)
            {
                _headerPlaced += Place(_header.AsSpan(_headerPlaced), _framePriority);
                if (_headerPlaced < FrameHeader.Size)
                {
                    return Blocked(taken);
                }
            }

            if (_bodyRemaining != 0)
            {
                // One message's worth per pass, so a whole message of body can skip the copy.
                int available = (int)Math.Min(_bodyRemaining, frames.Length - taken);
                if (available == 0)
                {
                    break;
                }
                if (!MakeRoom(_framePriority))
                {
                    return Blocked(taken);
                }
                int placed;
                if (_messageLength == 0 && available >= _message.Length)
                {
                    // Untaken bytes need not be held: when the queue is full the caller simply keeps them.
                    if (!_sink.TrySend(frames.Slice(taken, _message.Length), _framePriority))
                    {
                        return Blocked(taken);
                    }
                    placed = _message.Length;
                }
                else
                {
                    placed = Math.Min(available, _message.Length - _messageLength);
                    frames.Slice(taken, placed).CopyTo(_message.AsSpan(_messageLength));
                    _messageLength += placed;
                }
                taken += placed;
                _bodyRemaining -= placed;
                if (_bodyRemaining != 0)
                {
                    continue;
                }
            }

            // The frame is all in messages: the next bytes are a header.
            _headerLength = 0;
            _headerPlaced = 0;
        }

        // Nothing more to take: send what is assembled (if the queue is full it stays pending).
        if (_messageLength != 0 && !SendMessage())
        {
            return Blocked(taken);
        }
        return IoResult.Transferred(taken);
    }

    /// <summary>
    /// Sends what is pending (<see cref="HasPending"/>). Success (0 bytes: nothing new is taken) when
    /// nothing is pending any more; WouldBlock when the queue is still full.
    /// </summary>
    /// <exception cref="IpcException">The send failed for another reason than a full queue.</exception>
    public IoResult Flush()
    {
        Write(ReadOnlySpan<byte>.Empty);
        return HasPending ? IoResult.Blocked : IoResult.Transferred(0);
    }

    // The queue is full: Success with what was taken, WouldBlock when that is nothing.
    private static IoResult Blocked(int taken) => taken != 0 ? IoResult.Transferred(taken) : IoResult.Blocked;

    // Reads what the writer needs from the complete header; the error, or null.
    private string? BeginFrame()
    {
        ReadOnlySpan<byte> header = _header;
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != FrameHeader.Magic)
        {
            return "a header does not start with the magic \"IPCH\"";
        }
        ushort priority = BinaryPrimitives.ReadUInt16LittleEndian(header[FrameHeader.PriorityOffset..]);
        if (priority > FrameHeader.MaxPriority)
        {
            return $"a frame priority is at most {FrameHeader.MaxPriority} (got {priority})";
        }
        _framePriority = priority;
        _bodyRemaining = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]) + (long)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        _headerPlaced = 0;
        return null;
    }

    // Copies header bytes into messages, sending each as it fills or when the priority changes.
    // Returns how many it copied: fewer than offered when the queue is full (the message then stays pending).
    private int Place(ReadOnlySpan<byte> bytes, uint priority)
    {
        int placed = 0;
        while (placed < bytes.Length && MakeRoom(priority))
        {
            int n = Math.Min(_message.Length - _messageLength, bytes.Length - placed);
            bytes.Slice(placed, n).CopyTo(_message.AsSpan(_messageLength));
            _messageLength += n;
            placed += n;
        }
        return placed;
    }

    // Readies the message for bytes of this priority: sends it first when it is full or of another priority.
    // False when that send found the queue full.
    private bool MakeRoom(uint priority)
    {
        if (_messageLength != 0 && (_messageLength == _message.Length || _messagePriority != priority) && !SendMessage())
        {
            return false;
        }
        _messagePriority = priority;
        return true;
    }

    private bool SendMessage()
    {
        if (!_sink.TrySend(_message.AsSpan(0, _messageLength), _messagePriority))
        {
            return false;
        }
        _messageLength = 0;
        return true;
    }

    private void ThrowIfFaulted()
    {
        if (_faulted)
        {
            throw new InvalidOperationException("The writer was given bytes that are not a frame stream; the stream is broken.");
        }
    }
}
