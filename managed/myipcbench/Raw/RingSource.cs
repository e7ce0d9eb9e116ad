using System.Globalization;
using System.Runtime.CompilerServices;
using IpcCore.Rings;

namespace MyIpcBench.Raw;

/// <summary>
/// Records out of a shared-memory ring, each copied out as read(2) copies out of a pipe (a consumer hands
/// the bytes on, and the hub's subscribers copy too), so the raw ring is compared on equal terms. Records the caller is done with are released in
/// batches of <c>releaseEvery</c> (one release store each), and always before waiting, so the producer
/// never waits for space the consumer merely has not handed back.
/// </summary>
internal sealed class RingSource : MessageSource
{
    private readonly RingConsumer _consumer;
    private readonly string _name;
    private readonly int _size;
    private readonly int _releaseEvery;
    private int _unreleased;
    private readonly byte[] _copy;

    /// <param name="consumer">The ring's consumer.</param>
    /// <param name="name">The shared memory object, for messages.</param>
    /// <param name="messageSize">Every record must be this long.</param>
    /// <param name="spinMicroseconds">How long a wait spins before it sleeps; 0: only the ring's short spin (<see cref="RingConsumer.SpinCount"/>).</param>
    /// <param name="releaseEvery">Records per release.</param>
    public RingSource(RingConsumer consumer, string name, int messageSize, int spinMicroseconds, int releaseEvery)
    {
        _consumer = consumer;
        _name = name;
        _size = messageSize;
        _releaseEvery = Math.Max(1, releaseEvery);
        _copy = new byte[messageSize];
        // The ring's own time-bounded spin (it yields now and then, so a peer on the same core can run),
        // the same one the hub's clients use.
        _consumer.SpinNs = spinMicroseconds * 1000L;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override ReadOnlySpan<byte> Next()
    {
        if (_unreleased >= _releaseEvery)
        {
            _consumer.Release();
            _unreleased = 0;
        }
        ReadOnlySpan<byte> record;
        while (!_consumer.TryPeek(out record))
        {
            Wait();
        }
        _unreleased++;
        if (record.Length != _size)
        {
            ThrowBadLength(record.Length);
        }
        record.CopyTo(_copy);
        return _copy;
    }

    private void Wait()
    {
        _unreleased = 0; // WaitForData releases everything peeked first
        RingWaitResult result = _consumer.WaitForData(RawTimeouts.PeerDeadlineNs());
        if (result == RingWaitResult.PeerGone)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"ring '{_name}': the writing process (pid {_consumer.Ring.ProducerPid}) is gone"));
        }
        if (result == RingWaitResult.TimedOut)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"ring '{_name}': nothing arrived for {RawTimeouts.Peer.TotalSeconds:F0} s"));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadLength(int length)
        => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"ring '{_name}': a {length}-byte record, expected {_size} bytes"));
}
