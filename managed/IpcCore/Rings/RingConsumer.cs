using System.Runtime.CompilerServices;

namespace IpcCore.Rings;

/// <summary>
/// The reading side of a <see cref="ShmRing"/> (one thread at a time). <see cref="TryPeek"/> returns the
/// next record in place (padding is skipped) as often as wanted; <see cref="Release"/> then frees every
/// record peeked so far with one release store. A peeked span is valid only until <see cref="Release"/>
/// (the producer may overwrite it after). Allocation-free.
/// </summary>
public sealed unsafe class RingConsumer
{
    private readonly ShmRing _ring;
    private readonly byte* _data;
    private readonly long _capacity;
    private readonly long _mask;
    private readonly int _maxRecord;
    private long _head;          // end of the last peeked record (not yet freed when > _publishedHead)
    private long _publishedHead; // the last head released to the producer
    private long _tailCache;     // the producer's tail as last seen: records below it are complete

    internal RingConsumer(ShmRing ring)
    {
        _ring = ring;
        _data = ring.Data;
        _capacity = ring.Capacity;
        _mask = ring.Mask;
        _maxRecord = ring.MaxRecord;
        _head = _publishedHead = ring.AcquireLoadHead();
        _tailCache = ring.AcquireLoadTail();
    }

    /// <summary>The ring read from.</summary>
    public ShmRing Ring => _ring;

    /// <summary>Spin iterations before a wait sleeps in the kernel (0: sleep at once).</summary>
    public int SpinCount { get; set; } = 100;

    /// <summary>
    /// When positive, a wait spins for this many nanoseconds (at least <see cref="SpinCount"/> iterations)
    /// before it sleeps: keeps a side awake while a stream pauses only briefly, at the cost of CPU.
    /// </summary>
    public long SpinNs { get; set; }

    /// <summary>How often a sleeping wait wakes to check that the producer process still exists.</summary>
    public TimeSpan PeerCheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Wake-ups sent to a sleeping producer (each a futex wake or sem_post).</summary>
    public long WakeupsSent { get; private set; }

    /// <summary>Times <see cref="WaitForData"/> slept in the kernel.</summary>
    public long Sleeps { get; private set; }

    /// <summary>
    /// The next record's payload, in place, or false when no committed record is left. Padding records
    /// are skipped. The span stays valid until <see cref="Release"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The ring holds a malformed record (corrupted by a writer outside the protocol).</exception>
    public bool TryPeek(out ReadOnlySpan<byte> record)
    {
        while (true)
        {
            if (_head == _tailCache)
            {
                _tailCache = _ring.AcquireLoadTail();
                if (_head == _tailCache)
                {
                    record = default;
                    return false;
                }
                if ((ulong)(_tailCache - _head) > (ulong)_capacity)
                {
                    throw Corrupt($"tail {_tailCache} is not within {_capacity} bytes after head {_head}");
                }
            }
            long offset = _head & _mask;
            // Plain loads: the acquire of tail above ordered them after the producer's writes.
            uint length = *(uint*)(_data + offset);
            uint kind = *(uint*)(_data + offset + 4);
            if (kind == ShmRing.KindData && length <= (uint)_maxRecord)
            {
                int recordSize = ShmRing.RecordSize((int)length);
                if (offset + recordSize <= _capacity && _head + recordSize <= _tailCache)
                {
                    record = new ReadOnlySpan<byte>(_data + offset + ShmRing.RecordHeaderSize, (int)length);
                    _head += recordSize;
                    return true;
                }
            }
            else if (kind == ShmRing.KindPadding && offset + ShmRing.RecordHeaderSize + length == _capacity
                && _head + (_capacity - offset) <= _tailCache)
            {
                _head += _capacity - offset;
                continue;
            }
            throw Corrupt($"bad record header (length {length}, kind {kind}) at offset {offset}");
        }
    }

    /// <summary>Frees every record peeked so far (one release store), waking the producer if it sleeps for space.</summary>
    public void Release()
    {
        if (_head == _publishedHead)
        {
            return;
        }
        _ring.ReleaseStoreHead(_head);
        _publishedHead = _head;
        // Full fence: store(head) must not pass load(producerSleeping) (StoreLoad), or a producer that
        // announced sleep and re-checked head before our store would never be woken.
        Interlocked.MemoryBarrier();
        if (_ring.VolatileReadProducerSleeping() != 0)
        {
            _ring.WakeProducer();
            WakeupsSent++;
        }
    }

    /// <summary>Whether a committed record (not yet peeked) is there now.</summary>
    public bool HasData()
    {
        if (_head != _tailCache)
        {
            return true;
        }
        _tailCache = _ring.AcquireLoadTail();
        return _head != _tailCache;
    }

    /// <summary>
    /// Releases what was peeked, then waits until a record is committed, until the CLOCK_MONOTONIC
    /// deadline <paramref name="deadlineNs"/> (<see cref="long.MaxValue"/>: no deadline) or until the
    /// producer process is found gone (records it committed before dying are still <see cref="RingWaitResult.Ready"/>).
    /// Spins <see cref="SpinCount"/> times, then sleeps.
    /// </summary>
    public RingWaitResult WaitForData(long deadlineNs)
    {
        Release();
        if (HasData())
        {
            return RingWaitResult.Ready;
        }
        long spinEnd = SpinNs > 0 ? MonotonicClock.NowNs + SpinNs : 0;
        for (int i = 0; i < SpinCount || (spinEnd != 0 && ((i & 7) != 0 || MonotonicClock.NowNs < spinEnd)); i++)
        {
            RingSpin.Once(i);
            if (HasData())
            {
                return RingWaitResult.Ready;
            }
        }
        long intervalNs = PeerCheckInterval.Ticks * 100;
        while (true)
        {
            // Captured before the re-check: a wake-up between the re-check and the sleep changes it,
            // so the futex wait returns at once instead of sleeping through it.
            uint signal = _ring.VolatileReadDataSignal();
            _ring.VolatileWriteConsumerSleeping(1);
            // Full fence: store(consumerSleeping) must not pass the load of tail in the re-check (StoreLoad);
            // pairs with the producer's fence between its tail store and its consumerSleeping load.
            Interlocked.MemoryBarrier();
            if (HasData())
            {
                _ring.VolatileWriteConsumerSleeping(0);
                return RingWaitResult.Ready;
            }
            long now = MonotonicClock.NowNs;
            if (now >= deadlineNs)
            {
                _ring.VolatileWriteConsumerSleeping(0);
                return ShmRing.IsPeerGone(_ring.VolatileReadProducerPid()) ? RingWaitResult.PeerGone : RingWaitResult.TimedOut;
            }
            Sleeps++;
            bool woken = _ring.SleepOnData(signal, deadlineNs - now > intervalNs ? now + intervalNs : deadlineNs);
            _ring.VolatileWriteConsumerSleeping(0);
            if (HasData())
            {
                return RingWaitResult.Ready;
            }
            if (!woken && ShmRing.IsPeerGone(_ring.VolatileReadProducerPid()))
            {
                return RingWaitResult.PeerGone;
            }
        }
    }

    /// <summary>
    /// For a consumer that sleeps outside the ring (the hub in epoll_wait, woken through the producer's
    /// <see cref="ShmRing.ConsumerWaker"/>): sets consumerSleeping, full fence, re-checks. True when data is
    /// already there (do not block). <see cref="EndExternalSleep"/> clears the flag once awake.
    /// </summary>
    public bool BeginExternalSleep()
    {
        _ring.VolatileWriteConsumerSleeping(1);
        // Full fence: the flag store must not pass the tail load of the re-check (pairs with Commit's fence).
        Interlocked.MemoryBarrier();
        return HasData();
    }

    /// <summary>Clears consumerSleeping after <see cref="BeginExternalSleep"/> (a busy producer then makes no wake calls).</summary>
    public void EndExternalSleep() => _ring.VolatileWriteConsumerSleeping(0);

    public override string ToString() => $"consumer at {_head} (released {_publishedHead}) of {_ring}";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidDataException Corrupt(string what) => new($"The ring is corrupt: {what}.");
}
