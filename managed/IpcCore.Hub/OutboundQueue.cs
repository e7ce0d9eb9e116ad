using System.Buffers;
using IpcCore.Protocol;

namespace IpcCore.Hub;

/// <summary>
/// A client's outbound frames, bounded in frames and bytes: one contiguous pooled buffer, so everything
/// queued since the last flush leaves in a single write call (the coalescing that lets many small frames
/// share a syscall). Data frames are admitted only within the limits (<see cref="CanAccept"/>); control
/// frames (Welcome, Ack, Error, Pong, Goodbye) always are, and the hub stops reading a client whose queue
/// is over its limits (<see cref="IsOverLimit"/>), which bounds them too. Frame boundaries are kept as
/// end offsets in a ring, so the frame count drops as bytes are written.
/// </summary>
/// <remarks>
/// A Data frame with descriptors records where it starts, and the queue holds a reference to the descriptors.
/// <see cref="NextWrite"/> cuts the stream there, so on a socket they leave attached to the frame's first byte
/// (one batch per sendmsg, in frame order: what the receiver's <see cref="DescriptorInbox"/> relies on). Over a
/// pipe the writer sends them ahead on the control socket first and says so (<see cref="DescriptorsSentAhead"/>):
/// the reference goes, the count stays until the frame's first byte is written. Counts bound what one client has
/// in flight (<see cref="MaxDescriptors"/>).
/// </remarks>
internal sealed class OutboundQueue : IDisposable
{
    /// <summary>The buffer size a queue starts with and shrinks back to when it empties.</summary>
    public const int InitialSize = 64 * 1024;

    /// <summary>An emptied buffer above this size is given back to the pool, once the traffic has calmed down.</summary>
    private const int ShrinkAbove = 256 * 1024;

    /// <summary>
    /// How many times in a row the queue must empty after holding no more than <see cref="ShrinkAbove"/> bytes
    /// before a large buffer is given back. Without it a busy stream, which empties the queue at every flush,
    /// would give its multi-megabyte buffer back and rent it again each time (the shared pool keeps arrays only
    /// up to a size, so that allocated hundreds of MB per run).
    /// </summary>
    private const int CalmEmptiesBeforeShrink = 64;

    private byte[] _buffer;
    private int _head;            // first unsent byte
    private int _tail;            // end of the queued bytes
    private long _written;        // stream offset of _head (bytes ever written)
    private long[] _ends = new long[64]; // stream end offsets of the queued frames, a ring
    private int _endsHead;
    private int _endsCount;
    private long _frontStart;     // stream offset where the front frame begins
    private int _peak;            // most bytes queued since the queue last emptied
    private int _calmEmpties;     // empties in a row with _peak <= ShrinkAbove
    private DescriptorEntry[] _fds = new DescriptorEntry[8]; // frames with descriptors, a ring in stream order
    private int _fdsHead;
    private int _fdsCount;

    public OutboundQueue(int maxMessages, long maxBytes, int maxDescriptors = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDescriptors, 1);
        MaxMessages = maxMessages;
        MaxBytes = maxBytes;
        MaxDescriptors = maxDescriptors;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    }

    /// <summary>The descriptor limit (descriptors of queued frames whose first byte is not written yet).</summary>
    public int MaxDescriptors { get; }

    /// <summary>Descriptors of queued frames whose first byte is not written yet.</summary>
    public int QueuedDescriptors { get; private set; }

    /// <summary>The frame limit.</summary>
    public int MaxMessages { get; }

    /// <summary>The byte limit.</summary>
    public long MaxBytes { get; }

    /// <summary>Frames queued and not completely written.</summary>
    public int Messages => _endsCount;

    /// <summary>Bytes queued and not yet written.</summary>
    public int Bytes => _tail - _head;

    /// <summary>Whether anything waits to be written.</summary>
    public bool HasPending => _tail > _head;

    /// <summary>The bytes to write next, all of them contiguous.</summary>
    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_head, _tail - _head);

    /// <summary>The buffer's size (tests).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Whether a frame of <paramref name="frameLength"/> bytes (with <paramref name="descriptors"/> descriptors) fits the limits.</summary>
    public bool CanAccept(int frameLength, int descriptors = 0)
        => _endsCount < MaxMessages && (long)Bytes + frameLength <= MaxBytes
           && (descriptors == 0 || (long)QueuedDescriptors + descriptors <= MaxDescriptors);

    /// <summary>Whether the queue is at or over a limit (the client's own requests then wait).</summary>
    public bool IsOverLimit => _endsCount >= MaxMessages || Bytes >= MaxBytes;

    /// <summary>
    /// Queues <paramref name="publish"/> (a whole, validated Publish frame) as a Data frame with channel
    /// sequence <paramref name="sequence"/> if it fits the limits: the bytes are copied once and the header
    /// is patched (type, flags, sequence), since the rest of the two frames is identical.
    /// </summary>
    public bool TryEnqueueData(ReadOnlySpan<byte> publish, ulong sequence)
    {
        if (!CanAccept(publish.Length))
        {
            return false;
        }
        Span<byte> frame = Reserve(publish.Length);
        publish.CopyTo(frame);
        FrameWriter.PublishToData(frame, sequence);
        return true;
    }

    /// <summary>
    /// Queues <paramref name="publish"/> as a Data frame carrying <paramref name="descriptors"/>, if it fits the
    /// limits; the queue keeps a reference until the descriptors are sent (see <see cref="NextWrite"/>).
    /// </summary>
    public bool TryEnqueueData(ReadOnlySpan<byte> publish, ulong sequence, SharedDescriptors descriptors)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        if (!CanAccept(publish.Length, descriptors.Count))
        {
            return false;
        }
        long start = _written + Bytes;
        descriptors.Retain();
        if (_fdsCount == _fds.Length)
        {
            GrowDescriptorEntries();
        }
        _fds[(_fdsHead + _fdsCount) & (_fds.Length - 1)] = new DescriptorEntry(start, descriptors, descriptors.Count);
        _fdsCount++;
        QueuedDescriptors += descriptors.Count;
        Span<byte> frame = Reserve(publish.Length);
        publish.CopyTo(frame);
        FrameWriter.PublishToData(frame, sequence);
        return true;
    }

    /// <summary>
    /// The bytes to write next and the descriptors to attach to them (null: a plain write). The stream is cut
    /// before a frame with in-band descriptors, and again before the next one, so that each batch leaves with
    /// its frame's first byte. After writing, call <see cref="Advance"/> (it knows whether the batch went).
    /// </summary>
    public ReadOnlySpan<byte> NextWrite(out SharedDescriptors? attach)
    {
        attach = null;
        int pending = Bytes;
        for (int i = 0; i < _fdsCount; i++)
        {
            ref DescriptorEntry entry = ref _fds[(_fdsHead + i) & (_fds.Length - 1)];
            if (entry.Set is null)
            {
                continue;
            }
            int before = (int)(entry.Start - _written);
            if (before > 0)
            {
                return _buffer.AsSpan(_head, before);
            }
            attach = entry.Set;
            // Up to the next frame with in-band descriptors.
            for (int j = i + 1; j < _fdsCount; j++)
            {
                ref DescriptorEntry next = ref _fds[(_fdsHead + j) & (_fds.Length - 1)];
                if (next.Set is not null)
                {
                    return _buffer.AsSpan(_head, (int)(next.Start - _written));
                }
            }
            break;
        }
        return _buffer.AsSpan(_head, pending);
    }

    /// <summary>
    /// The descriptors <see cref="NextWrite"/> handed out went ahead on a side channel (the pipe transport's control
    /// socket): the queue lets go of them; they still count until their frame's first byte is written.
    /// </summary>
    public void DescriptorsSentAhead()
    {
        for (int i = 0; i < _fdsCount; i++)
        {
            ref DescriptorEntry entry = ref _fds[(_fdsHead + i) & (_fds.Length - 1)];
            if (entry.Set is not null)
            {
                entry.Set.Release();
                entry = entry with { Set = null };
                return;
            }
        }
        throw new InvalidOperationException("no descriptors wait to be sent");
    }

    /// <summary>Reserves <paramref name="length"/> bytes for a control frame (never refused) and records it as one frame.</summary>
    public Span<byte> ReserveControl(int length) => Reserve(length);

    /// <summary>Queues an Ack of request <paramref name="requestId"/>.</summary>
    public void EnqueueAck(ulong requestId, in AckPayload ack)
        => FrameWriter.WriteAck(Reserve(FrameHeader.Size + AckPayload.Size), requestId, ack);

    /// <summary>Queues an Error frame.</summary>
    public void EnqueueError(ulong requestId, ProtocolErrorCode code, string reason, bool fatal)
        => FrameWriter.WriteError(Reserve(FrameWriter.ErrorFrameLength(reason)), requestId, code, reason, fatal);

    /// <summary>Queues a frame without channel: header and <paramref name="payload"/>.</summary>
    public void EnqueueControl(FrameType type, ulong sequence, ReadOnlySpan<byte> payload)
        => FrameWriter.Write(Reserve(FrameWriter.FrameLength(0, payload.Length)), type, FrameFlags.None, sequence, default, payload);

    /// <summary>Queues a Goodbye with <paramref name="reason"/>.</summary>
    public void EnqueueGoodbye(string reason)
    {
        int length = FrameWriter.FrameLength(0, Math.Min(System.Text.Encoding.UTF8.GetByteCount(reason), ProtocolLimits.MaxControlPayload));
        FrameWriter.WriteGoodbye(Reserve(length), reason);
    }

    /// <summary>Records that the first <paramref name="count"/> pending bytes were written.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Bytes);
        _head += count;
        _written += count;
        // Frames whose first byte is out have their descriptors delivered (attached to it, or sent ahead).
        while (_fdsCount > 0 && _fds[_fdsHead].Start < _written)
        {
            DescriptorEntry entry = _fds[_fdsHead];
            _fds[_fdsHead] = default;
            _fdsHead = (_fdsHead + 1) & (_fds.Length - 1);
            _fdsCount--;
            QueuedDescriptors -= entry.Count;
            entry.Set?.Release();
        }
        while (_endsCount > 0 && _ends[_endsHead] <= _written)
        {
            _frontStart = _ends[_endsHead];
            _endsHead = (_endsHead + 1) & (_ends.Length - 1);
            _endsCount--;
        }
        if (_head == _tail)
        {
            _head = _tail = 0;
            _calmEmpties = _peak <= ShrinkAbove ? _calmEmpties + 1 : 0;
            _peak = 0;
            if (_buffer.Length > ShrinkAbove && _calmEmpties >= CalmEmptiesBeforeShrink)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
            }
        }
    }

    /// <summary>
    /// Throws away every frame not yet begun on the wire, keeping a partly written one so the peer's
    /// stream stays framed; used before a fatal Error that must not wait behind a full queue.
    /// </summary>
    public void DiscardUnsent()
    {
        if (_endsCount == 0)
        {
            return;
        }
        if (_written > _frontStart)
        {
            // The front frame is partly on the wire: keep exactly it.
            _tail = _head + (int)(_ends[_endsHead] - _written);
            _endsCount = 1;
        }
        else
        {
            _head = _tail = 0;
            _endsCount = 0;
        }
        ReleaseDescriptorsFrom(_written + Bytes);
    }

    /// <summary>Lets go of the descriptors of frames starting at or after stream offset <paramref name="start"/> (thrown away).</summary>
    private void ReleaseDescriptorsFrom(long start)
    {
        while (_fdsCount > 0)
        {
            int last = (_fdsHead + _fdsCount - 1) & (_fds.Length - 1);
            if (_fds[last].Start < start)
            {
                break;
            }
            DescriptorEntry entry = _fds[last];
            _fds[last] = default;
            _fdsCount--;
            QueuedDescriptors -= entry.Count;
            entry.Set?.Release();
        }
    }

    private void GrowDescriptorEntries()
    {
        var larger = new DescriptorEntry[_fds.Length * 2];
        for (int i = 0; i < _fdsCount; i++)
        {
            larger[i] = _fds[(_fdsHead + i) & (_fds.Length - 1)];
        }
        _fds = larger;
        _fdsHead = 0;
    }

    /// <summary>Where a frame with descriptors starts (stream offset), and its descriptors while the queue holds them (until sent).</summary>
    private readonly record struct DescriptorEntry(long Start, SharedDescriptors? Set, int Count);

    public void Dispose()
    {
        ReleaseDescriptorsFrom(long.MinValue);
        byte[] buffer = _buffer;
        _buffer = [];
        _head = _tail = 0;
        _endsCount = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Span<byte> Reserve(int length)
    {
        if (_buffer.Length - _tail < length)
        {
            MakeRoom(length);
        }
        Span<byte> span = _buffer.AsSpan(_tail, length);
        if (_endsCount == 0)
        {
            _frontStart = _written + Bytes;
        }
        _tail += length;
        _peak = Math.Max(_peak, _tail - _head);
        if (_endsCount == _ends.Length)
        {
            GrowEnds();
        }
        _ends[(_endsHead + _endsCount) & (_ends.Length - 1)] = _written + Bytes;
        _endsCount++;
        return span;
    }

    private void MakeRoom(int length)
    {
        int pending = Bytes;
        // Compact only when that frees at least half the buffer, else grow: compaction then moves at most
        // as many bytes as it frees, so its cost per queued byte stays constant.
        if (pending + length <= _buffer.Length && pending <= _buffer.Length / 2)
        {
            Buffer.BlockCopy(_buffer, _head, _buffer, 0, pending);
        }
        else
        {
            long wanted = Math.Max((long)_buffer.Length * 2, (long)pending + length);
            byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(wanted, Array.MaxLength));
            Buffer.BlockCopy(_buffer, _head, larger, 0, pending);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        _head = 0;
        _tail = pending;
    }

    private void GrowEnds()
    {
        long[] larger = new long[_ends.Length * 2];
        for (int i = 0; i < _endsCount; i++)
        {
            larger[i] = _ends[(_endsHead + i) & (_ends.Length - 1)];
        }
        _ends = larger;
        _endsHead = 0;
    }
}
