using System.Runtime.CompilerServices;

namespace IpcCore.Rings;

/// <summary>
/// The writing side of a <see cref="ShmRing"/> (one thread at a time). Records are claimed with
/// <see cref="TryClaim"/> (several may be claimed in a row) and become visible to the consumer together
/// at <see cref="Commit"/>; <see cref="TryWrite"/> does all three for one record. Allocation-free.
/// </summary>
public sealed unsafe class RingProducer
{
    private readonly ShmRing _ring;
    private readonly byte* _data;
    private readonly long _capacity;
    private readonly long _mask;
    private readonly int _maxRecord;
    private long _tail;          // end of the last claimed record (not yet visible when > _publishedTail)
    private long _publishedTail; // the last tail released to the consumer
    private long _headCache;     // the consumer's head as last seen: space below it is certainly free

    internal RingProducer(ShmRing ring)
    {
        _ring = ring;
        _data = ring.Data;
        _capacity = ring.Capacity;
        _mask = ring.Mask;
        _maxRecord = ring.MaxRecord;
        _tail = _publishedTail = ring.AcquireLoadTail();
        _headCache = ring.AcquireLoadHead();
    }

    /// <summary>The ring written to.</summary>
    public ShmRing Ring => _ring;

    /// <summary>Spin iterations before a wait sleeps in the kernel (0: sleep at once).</summary>
    public int SpinCount { get; set; } = 100;

    /// <summary>
    /// When positive, a wait spins for this many nanoseconds (at least <see cref="SpinCount"/> iterations)
    /// before it sleeps: keeps a side awake while a stream pauses only briefly, at the cost of CPU.
    /// </summary>
    public long SpinNs { get; set; }

    /// <summary>How often a sleeping wait wakes to check that the consumer process still exists.</summary>
    public TimeSpan PeerCheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Wake-ups sent to a sleeping consumer (each a futex wake or sem_post).</summary>
    public long WakeupsSent { get; private set; }

    /// <summary>Times <see cref="WaitForSpace"/> slept in the kernel.</summary>
    public long Sleeps { get; private set; }

    /// <summary>Bytes claimed but not yet committed.</summary>
    public long UncommittedBytes => _tail - _publishedTail;

    /// <summary>
    /// Claims room for a record of <paramref name="length"/> payload bytes and returns it in
    /// <paramref name="destination"/> to fill before <see cref="Commit"/>; false when the ring is too full now.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="length"/> is negative or exceeds <see cref="ShmRing.MaxRecord"/>.</exception>
    public bool TryClaim(int length, out Span<byte> destination)
    {
        if ((uint)length > (uint)_maxRecord)
        {
            ThrowBadLength(length);
        }
        int recordSize = ShmRing.RecordSize(length);
        long offset = _tail & _mask;
        long toEnd = _capacity - offset;
        // A record never crosses the end: if it does not fit before it, a padding record fills the rest.
        long needed = recordSize <= toEnd ? recordSize : toEnd + recordSize;
        if (_capacity - (_tail - _headCache) < needed)
        {
            _headCache = _ring.AcquireLoadHead();
            if (_capacity - (_tail - _headCache) < needed)
            {
                destination = default;
                return false;
            }
        }
        if (recordSize > toEnd)
        {
            // Plain stores: the release of tail at Commit publishes them together with the record.
            WriteRecordHeader(offset, (uint)(toEnd - ShmRing.RecordHeaderSize), ShmRing.KindPadding);
            _tail += toEnd;
            offset = 0;
        }
        WriteRecordHeader(offset, (uint)length, ShmRing.KindData);
        destination = new Span<byte>(_data + offset + ShmRing.RecordHeaderSize, length);
        _tail += recordSize;
        return true;
    }

    /// <summary>Makes every claimed record visible to the consumer (one release store), waking it if it sleeps.</summary>
    public void Commit()
    {
        if (_tail == _publishedTail)
        {
            return;
        }
        _ring.ReleaseStoreTail(_tail);
        _publishedTail = _tail;
        // Full fence: store(tail) must not pass load(consumerSleeping) (StoreLoad), or a consumer that
        // announced sleep and re-checked tail before our store would never be woken.
        Interlocked.MemoryBarrier();
        if (_ring.VolatileReadConsumerSleeping() != 0)
        {
            _ring.WakeConsumer();
            WakeupsSent++;
        }
    }

    /// <summary>Claims, fills and commits one record of <paramref name="payload"/>; false when the ring is too full now.</summary>
    public bool TryWrite(ReadOnlySpan<byte> payload)
    {
        if (!TryClaim(payload.Length, out Span<byte> destination))
        {
            return false;
        }
        payload.CopyTo(destination);
        Commit();
        return true;
    }

    /// <summary>Whether a record of <paramref name="length"/> bytes can be claimed now.</summary>
    public bool HasSpaceFor(int length)
    {
        if ((uint)length > (uint)_maxRecord)
        {
            ThrowBadLength(length);
        }
        long toEnd = _capacity - (_tail & _mask);
        int recordSize = ShmRing.RecordSize(length);
        long needed = recordSize <= toEnd ? recordSize : toEnd + recordSize;
        _headCache = _ring.AcquireLoadHead();
        return _capacity - (_tail - _headCache) >= needed;
    }

    /// <summary>
    /// Commits what is claimed, then waits until a record of <paramref name="length"/> bytes fits, until
    /// the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/> (<see cref="long.MaxValue"/>: no deadline)
    /// or until the consumer process is found gone. Spins <see cref="SpinCount"/> times, then sleeps.
    /// </summary>
    public RingWaitResult WaitForSpace(int length, long deadlineNs)
    {
        Commit();
        if (HasSpaceFor(length))
        {
            return RingWaitResult.Ready;
        }
        long spinEnd = SpinNs > 0 ? MonotonicClock.NowNs + SpinNs : 0;
        for (int i = 0; i < SpinCount || (spinEnd != 0 && ((i & 7) != 0 || MonotonicClock.NowNs < spinEnd)); i++)
        {
            RingSpin.Once(i);
            if (HasSpaceFor(length))
            {
                return RingWaitResult.Ready;
            }
        }
        long intervalNs = PeerCheckInterval.Ticks * 100;
        while (true)
        {
            // Captured before the re-check: a wake-up between the re-check and the sleep changes it,
            // so the futex wait returns at once instead of sleeping through it.
            uint signal = _ring.VolatileReadSpaceSignal();
            _ring.VolatileWriteProducerSleeping(1);
            // Full fence: store(producerSleeping) must not pass the load of head in the re-check (StoreLoad);
            // pairs with the consumer's fence between its head store and its producerSleeping load.
            Interlocked.MemoryBarrier();
            if (HasSpaceFor(length))
            {
                _ring.VolatileWriteProducerSleeping(0);
                return RingWaitResult.Ready;
            }
            long now = MonotonicClock.NowNs;
            if (now >= deadlineNs)
            {
                _ring.VolatileWriteProducerSleeping(0);
                return ShmRing.IsPeerGone(_ring.VolatileReadConsumerPid()) ? RingWaitResult.PeerGone : RingWaitResult.TimedOut;
            }
            Sleeps++;
            bool woken = _ring.SleepOnSpace(signal, deadlineNs - now > intervalNs ? now + intervalNs : deadlineNs);
            _ring.VolatileWriteProducerSleeping(0);
            if (HasSpaceFor(length))
            {
                return RingWaitResult.Ready;
            }
            if (!woken && ShmRing.IsPeerGone(_ring.VolatileReadConsumerPid()))
            {
                return RingWaitResult.PeerGone;
            }
        }
    }

    /// <summary>Writes one record, waiting for space as <see cref="WaitForSpace"/> does; the result says whether it was written.</summary>
    public RingWaitResult Write(ReadOnlySpan<byte> payload, long deadlineNs)
    {
        while (!TryWrite(payload))
        {
            RingWaitResult result = WaitForSpace(payload.Length, deadlineNs);
            if (result != RingWaitResult.Ready)
            {
                return result;
            }
        }
        return RingWaitResult.Ready;
    }

    /// <summary>
    /// For a producer that sleeps outside the ring (the hub in epoll_wait, woken through the consumer's
    /// <see cref="ShmRing.ProducerWaker"/>): sets producerSleeping, full fence, re-checks. True when a record
    /// of <paramref name="length"/> bytes fits already (do not block).
    /// </summary>
    public bool BeginExternalSleep(int length)
    {
        _ring.VolatileWriteProducerSleeping(1);
        // Full fence: the flag store must not pass the head load of the re-check (pairs with Release's fence).
        Interlocked.MemoryBarrier();
        return HasSpaceFor(length);
    }

    /// <summary>Clears producerSleeping after <see cref="BeginExternalSleep"/>.</summary>
    public void EndExternalSleep() => _ring.VolatileWriteProducerSleeping(0);

    public override string ToString() => $"producer at {_tail} (published {_publishedTail}) of {_ring}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteRecordHeader(long offset, uint length, uint kind)
    {
        *(uint*)(_data + offset) = length;
        *(uint*)(_data + offset + 4) = kind;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadLength(int length)
    {
        if (length < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A record length cannot be negative.");
        }
        throw new ArgumentException(
            $"A record of {length} bytes exceeds this ring's maximum record of {_maxRecord} bytes (capacity {_capacity}).", nameof(length));
    }
}

/// <summary>
/// The bounded busy-wait of the client's waits (rings, a spinning socket receive, a lingering flush): mostly pause
/// instructions, a yield every 8 rounds so a peer on the same core can run, and the first round a yield: a side that starts waiting has usually just handed work to a peer
/// (the hub, to route what it wrote), which on a machine with fewer cores than busy threads may be waiting for
/// this core (measured here: one-way p50 through the hub 5.3 → 2.4 µs).
/// </summary>
internal static class RingSpin
{
    public static void Once(int iteration)
    {
        if ((iteration & 7) == 0)
        {
            Thread.Yield();
        }
        else
        {
            Thread.SpinWait(16);
        }
    }
}
