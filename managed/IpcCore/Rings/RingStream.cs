using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IpcCore.Rings;

/// <summary>
/// Reads a byte stream out of a ring's records (a transport carries frames as a stream: a frame may span
/// records, a record may end inside a frame). Keeps its place inside a partly copied record, which stays
/// unreleased until it is copied completely. Allocation-free; one thread at a time.
/// </summary>
public sealed unsafe class RingStreamReader
{
    private readonly RingConsumer _consumer;
    private byte* _record;
    private int _length;
    private int _offset;
    private bool _peeked;

    public RingStreamReader(RingConsumer consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        _consumer = consumer;
    }

    /// <summary>The consumer read from.</summary>
    public RingConsumer Consumer => _consumer;

    /// <summary>Whether bytes can be read now.</summary>
    public bool HasData => _offset != _length || _consumer.HasData();

    /// <summary>Copies up to <paramref name="destination"/>'s length of committed bytes; 0 when none are there. Never waits.</summary>
    public int Read(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            if (_offset == _length)
            {
                if (!_consumer.TryPeek(out ReadOnlySpan<byte> record))
                {
                    break;
                }
                _peeked = true;
                _record = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(record));
                _length = record.Length;
                _offset = 0;
            }
            int n = Math.Min(_length - _offset, destination.Length - total);
            new ReadOnlySpan<byte>(_record + _offset, n).CopyTo(destination[total..]);
            _offset += n;
            total += n;
        }
        if (_peeked && _offset == _length)
        {
            // Nothing of the current record is left: free everything peeked (one release store).
            _consumer.Release();
            _peeked = false;
        }
        return total;
    }

    /// <summary>Waits as <see cref="RingConsumer.WaitForData"/> does, unless bytes are there already.</summary>
    public RingWaitResult WaitForData(long deadlineNs)
    {
        if (_offset != _length)
        {
            return RingWaitResult.Ready;
        }
        return _consumer.WaitForData(deadlineNs);
    }
}

/// <summary>
/// Writes a byte stream into a ring as records of up to <see cref="ShmRing.MaxRecord"/> bytes, committed once
/// per call. Allocation-free; one thread at a time.
/// </summary>
public sealed class RingStreamWriter
{
    /// <summary>The smallest record a partial write makes when the ring is nearly full.</summary>
    public const int MinChunk = 64;

    private readonly RingProducer _producer;
    private readonly int _maxRecord;

    public RingStreamWriter(RingProducer producer)
    {
        ArgumentNullException.ThrowIfNull(producer);
        _producer = producer;
        _maxRecord = producer.Ring.MaxRecord;
    }

    /// <summary>The producer written to.</summary>
    public RingProducer Producer => _producer;

    /// <summary>Whether a write can take bytes now.</summary>
    public bool HasSpace => _producer.HasSpaceFor(Math.Min(MinChunk, _maxRecord));

    /// <summary>Copies as much of <paramref name="source"/> as fits now and commits it; the bytes taken (0: full). Never waits.</summary>
    public int Write(ReadOnlySpan<byte> source)
    {
        int total = 0;
        int minChunk = Math.Min(MinChunk, _maxRecord);
        while (total < source.Length)
        {
            int n = Math.Min(source.Length - total, _maxRecord);
            Span<byte> destination;
            while (!_producer.TryClaim(n, out destination))
            {
                if (n <= minChunk)
                {
                    _producer.Commit();
                    return total;
                }
                n = Math.Max(minChunk, n / 2);
            }
            source.Slice(total, n).CopyTo(destination);
            total += n;
        }
        _producer.Commit();
        return total;
    }
}
