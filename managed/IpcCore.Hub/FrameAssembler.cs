using System.Buffers;

namespace IpcCore.Hub;

/// <summary>
/// A connection's inbound bytes: a pooled buffer that reads land in and frames are parsed from, in
/// place. It starts small and grows only to a frame length <see cref="Protocol.FrameReader"/> has
/// validated (never beyond the protocol's maximum frame length), so a client cannot make the hub reserve
/// what it merely claims. It also discards an oversized Publish as its bytes arrive, without keeping them.
/// </summary>
internal sealed class FrameAssembler : IDisposable
{
    /// <summary>The buffer a connection starts with (and returns to once a large frame has passed).</summary>
    public const int InitialSize = 64 * 1024;

    /// <summary>Free space below which the buffer is compacted before a read.</summary>
    private const int MinReadSpace = 4096;

    private readonly int _maxFrameLength;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _discardRemaining;

    public FrameAssembler(int maxFrameLength)
    {
        _maxFrameLength = maxFrameLength;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialSize, Math.Max(maxFrameLength, 1024)));
    }

    /// <summary>The buffered bytes not yet consumed, starting at a frame boundary (unless discarding).</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(_start, _end - _start);

    /// <summary>How many bytes are buffered.</summary>
    public int Count => _end - _start;

    /// <summary>The buffer's size (for tests: it only grows to validated lengths).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Bytes of an oversized frame still to be thrown away as they arrive.</summary>
    public long DiscardRemaining => _discardRemaining;

    /// <summary>Whether an oversized frame is being discarded.</summary>
    public bool IsDiscarding => _discardRemaining > 0;

    /// <summary>
    /// The free space to read into. <paramref name="needed"/> is the length of the frame at the front as
    /// far as it is known and validated (<see cref="Protocol.FrameHeader.Size"/> before its header is in);
    /// the buffer grows to hold it, compacting first.
    /// </summary>
    public Span<byte> GetReadSpace(int needed)
    {
        if (_start == _end)
        {
            _start = _end = 0;
            if (_buffer.Length > InitialSize && needed <= InitialSize)
            {
                // A large frame has passed: give its buffer back.
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
            }
        }
        if (needed > _buffer.Length)
        {
            if (needed > _maxFrameLength)
            {
                throw new InvalidOperationException($"a frame of {needed} bytes exceeds the validated maximum {_maxFrameLength}");
            }
            byte[] larger = ArrayPool<byte>.Shared.Rent(needed);
            Data.CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
            _end -= _start;
            _start = 0;
        }
        else if (_buffer.Length - _end < MinReadSpace || _start + needed > _buffer.Length)
        {
            Compact();
        }
        return _buffer.AsSpan(_end);
    }

    /// <summary>Records that <paramref name="count"/> bytes were read into the space <see cref="GetReadSpace"/> gave.</summary>
    public void Commit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>Consumes a parsed frame of <paramref name="length"/> bytes from the front.</summary>
    public void Consume(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Count);
        _start += length;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>
    /// Starts discarding a frame of <paramref name="frameLength"/> bytes that begins at the front: what is
    /// buffered of it goes now, the rest as it arrives (see <see cref="DiscardBuffered"/>).
    /// </summary>
    public void BeginDiscard(long frameLength)
    {
        _discardRemaining = frameLength;
        DiscardBuffered();
    }

    /// <summary>Drops buffered bytes of the frame being discarded; true when it is gone completely.</summary>
    public bool DiscardBuffered()
    {
        int drop = (int)Math.Min(_discardRemaining, Count);
        _discardRemaining -= drop;
        Consume(drop);
        return _discardRemaining == 0;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _start = _end = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Compact()
    {
        if (_start == 0)
        {
            return;
        }
        Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
        _end -= _start;
        _start = 0;
    }
}
