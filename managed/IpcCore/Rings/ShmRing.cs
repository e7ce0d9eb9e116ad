using System.Globalization;
using System.Runtime.CompilerServices;
using IpcCore.Native;

namespace IpcCore.Rings;

/// <summary>
/// A lock-free single-producer / single-consumer ring of variable-length records in a shared mapping
/// (usually <see cref="SharedMemory"/>): <see cref="RingHeader"/> followed by <see cref="Capacity"/> data
/// bytes. One process <see cref="Create"/>s it, any process <see cref="Attach"/>es to it, then one side
/// takes the <see cref="CreateProducer">producer</see> and one the <see cref="CreateConsumer">consumer</see>.
/// </summary>
/// <remarks>
/// Protocol: the producer writes records past <c>tail</c> and publishes them by a release store of
/// <c>tail</c>; the consumer acquire-loads <c>tail</c>, reads the records and frees them by a release
/// store of <c>head</c>. A record is invisible until <c>tail</c> passes it, so a producer killed
/// mid-write leaves nothing half-visible. The ring does not own the mapping: keep the region alive
/// (and undisposed) while the ring, its producer or its consumer are used.
/// </remarks>
public sealed unsafe class ShmRing : IDisposable
{
    /// <summary>Bytes before the data region.</summary>
    public const int HeaderSize = (int)RingLayout.RING_HEADER_SIZE;

    /// <summary>Smallest data region.</summary>
    public const int MinCapacity = (int)RingLayout.RING_MIN_CAPACITY;

    /// <summary>Largest data region this implementation accepts (records are addressed by 32-bit spans).</summary>
    public const long MaxCapacity = 1L << 30;

    internal const int RecordHeaderSize = (int)RingLayout.RING_RECORD_HEADER;
    internal const int RecordAlign = (int)RingLayout.RING_RECORD_ALIGN;
    internal const uint KindData = (uint)RingRecordKind.RING_RECORD_DATA;
    internal const uint KindPadding = (uint)RingRecordKind.RING_RECORD_PADDING;

    private readonly MappedRegion _region;
    private readonly RingHeader* _header;
    private readonly NamedSemaphore? _dataSemaphore;
    private readonly NamedSemaphore? _spaceSemaphore;
    private readonly RingSemaphoreNames? _ownedSemaphores;
    private int _producerTaken;
    private int _consumerTaken;
    private bool _disposed;

    private ShmRing(MappedRegion region, NamedSemaphore? data, NamedSemaphore? space, RingSemaphoreNames? owned)
    {
        _region = region;
        _header = (RingHeader*)region.Pointer;
        Data = region.Pointer + HeaderSize;
        Capacity = _header->Capacity;
        Mask = Capacity - 1;
        MaxRecord = checked((int)_header->MaxRecord);
        WakeMode = (RingWakeMode)_header->WakeMode;
        _dataSemaphore = data;
        _spaceSemaphore = space;
        _ownedSemaphores = owned;
    }

    /// <summary>Data bytes (a power of two).</summary>
    public long Capacity { get; }

    /// <summary>The largest payload a record may carry.</summary>
    public int MaxRecord { get; }

    /// <summary>How a waiting side sleeps.</summary>
    public RingWakeMode WakeMode { get; }

    /// <summary>The producer's pid once it attached, else 0.</summary>
    public int ProducerPid => VolatileReadProducerPid();

    /// <summary>The consumer's pid once it attached, else 0.</summary>
    public int ConsumerPid => VolatileReadConsumerPid();

    /// <summary>
    /// How this view wakes a sleeping consumer after a commit (null: the ring's wake mode, futex or semaphore).
    /// Set it when the consumer does not sleep on the ring's signal word, e.g. the hub, which sleeps in
    /// epoll_wait and is woken through an eventfd (<see cref="EventFdRingWaker"/>). Set before use.
    /// </summary>
    public IRingWaker? ConsumerWaker { get; set; }

    /// <summary>How this view wakes a sleeping producer after a release (null: the ring's wake mode).</summary>
    public IRingWaker? ProducerWaker { get; set; }

    internal byte* Data { get; }

    internal long Mask { get; }

    internal RingHeader* Header => _header;

    internal NamedSemaphore? DataSemaphore => _dataSemaphore;

    internal NamedSemaphore? SpaceSemaphore => _spaceSemaphore;

    /// <summary>The mapping size a ring of <paramref name="capacity"/> data bytes needs.</summary>
    public static long RequiredSize(long capacity) => HeaderSize + capacity;

    /// <summary>The largest <c>maxRecord</c> a ring of <paramref name="capacity"/> bytes allows (a record plus the padding before it always fits).</summary>
    public static int MaxRecordFor(long capacity) => checked((int)(capacity / 2 - RecordHeaderSize));

    /// <summary>
    /// Initialises a ring in <paramref name="region"/> (writable, at least <see cref="RequiredSize"/> bytes),
    /// before any other process attaches. With <see cref="RingWakeMode.Semaphore"/> it also creates the
    /// two semaphores <paramref name="semaphores"/> (exclusively) and unlinks them again when disposed.
    /// </summary>
    /// <param name="capacity">Data bytes: a power of two from <see cref="MinCapacity"/> to <see cref="MaxCapacity"/>.</param>
    /// <param name="maxRecord">The largest payload: 1 to <see cref="MaxRecordFor"/>(capacity).</param>
    public static ShmRing Create(MappedRegion region, long capacity, int maxRecord, RingWakeMode wakeMode = RingWakeMode.Futex,
        RingSemaphoreNames? semaphores = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (capacity < MinCapacity || capacity > MaxCapacity || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"The ring capacity must be a power of two from {MinCapacity} to {MaxCapacity} bytes.");
        }
        if (maxRecord < 1 || maxRecord > MaxRecordFor(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(maxRecord), maxRecord,
                $"maxRecord must be from 1 to {MaxRecordFor(capacity)} bytes (capacity/2 minus the {RecordHeaderSize}-byte record header) for a capacity of {capacity}.");
        }
        CheckRegion(region, capacity);
        if (!region.IsWritable)
        {
            throw new ArgumentException("The ring's region must be writable to create it.", nameof(region));
        }
        NamedSemaphore? data = null, space = null;
        CheckWakeMode(wakeMode, semaphores);
        try
        {
            if (wakeMode == RingWakeMode.Semaphore)
            {
                data = NamedSemaphore.Create(semaphores!.Data);
                space = NamedSemaphore.Create(semaphores.Space);
            }
            var header = (RingHeader*)region.Pointer;
            // Nobody else has attached yet, so plain stores suffice; the magic is published last with release.
            new Span<byte>(header, HeaderSize).Clear();
            header->Version = (uint)RingLayout.RING_VERSION;
            header->Capacity = capacity;
            header->MaxRecord = (uint)maxRecord;
            header->WakeMode = (uint)wakeMode;
            // Release: an attacher that acquire-reads the magic sees the complete config.
            Volatile.Write(ref header->Magic, (uint)RingLayout.RING_MAGIC);
            return new ShmRing(region, data, space, wakeMode == RingWakeMode.Semaphore ? semaphores : null);
        }
        catch
        {
            DisposeAndUnlink(data, space, semaphores);
            throw;
        }
    }

    /// <summary>
    /// Attaches to the ring another process created in <paramref name="region"/>, validating the magic,
    /// version, capacity and maxRecord against the mapping. A <see cref="RingWakeMode.Semaphore"/> ring
    /// needs the creator's <paramref name="semaphores"/> names.
    /// </summary>
    /// <exception cref="InvalidDataException">The region holds no ring of this version, or one that does not fit it.</exception>
    public static ShmRing Attach(MappedRegion region, RingSemaphoreNames? semaphores = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (!region.IsWritable)
        {
            // Both sides store into the header (tail or head, signals, their pid).
            throw new ArgumentException("The ring's region must be writable: both sides store into its header.", nameof(region));
        }
        if (region.Length < HeaderSize)
        {
            throw new InvalidDataException($"The mapping ({region.Length} bytes) is smaller than a ring header ({HeaderSize} bytes).");
        }
        var header = (RingHeader*)region.Pointer;
        // Acquire: pairs with the creator's release of the magic, so the config read below is complete.
        uint magic = Volatile.Read(ref header->Magic);
        if (magic != (uint)RingLayout.RING_MAGIC)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The mapping holds no ring: magic 0x{magic:x8}, expected 0x{(uint)RingLayout.RING_MAGIC:x8} (\"IRNG\")."));
        }
        if (header->Version != (uint)RingLayout.RING_VERSION)
        {
            throw new InvalidDataException($"The ring has layout version {header->Version}; this library speaks version {(uint)RingLayout.RING_VERSION}.");
        }
        long capacity = header->Capacity;
        if (capacity < MinCapacity || capacity > MaxCapacity || (capacity & (capacity - 1)) != 0)
        {
            throw new InvalidDataException($"The ring's capacity {capacity} is not a power of two from {MinCapacity} to {MaxCapacity}.");
        }
        if (region.Length < RequiredSize(capacity))
        {
            throw new InvalidDataException(
                $"The ring's capacity {capacity} needs a mapping of {RequiredSize(capacity)} bytes; this one has {region.Length}.");
        }
        if (header->MaxRecord < 1 || header->MaxRecord > MaxRecordFor(capacity))
        {
            throw new InvalidDataException($"The ring's maxRecord {header->MaxRecord} is outside 1..{MaxRecordFor(capacity)} for capacity {capacity}.");
        }
        var wakeMode = (RingWakeMode)header->WakeMode;
        if (wakeMode is not (RingWakeMode.Futex or RingWakeMode.Semaphore))
        {
            throw new InvalidDataException($"The ring's wake mode {header->WakeMode} is unknown.");
        }
        CheckWakeMode(wakeMode, semaphores);
        NamedSemaphore? data = null, space = null;
        try
        {
            if (wakeMode == RingWakeMode.Semaphore)
            {
                data = NamedSemaphore.Open(semaphores!.Data);
                space = NamedSemaphore.Open(semaphores.Space);
            }
            return new ShmRing(region, data, space, owned: null);
        }
        catch
        {
            data?.Dispose();
            space?.Dispose();
            throw;
        }
    }

    /// <summary>Becomes the ring's producer (once per <see cref="ShmRing"/>); records this process as the producer pid.</summary>
    public RingProducer CreateProducer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _producerTaken, 1) != 0)
        {
            throw new InvalidOperationException("This ring view already has a producer.");
        }
        // Release: the peer reads the pid only to check liveness; ordering against nothing else matters.
        Volatile.Write(ref _header->ProducerPid, ProcessInfo.CurrentPid);
        return new RingProducer(this);
    }

    /// <summary>Becomes the ring's consumer (once per <see cref="ShmRing"/>); records this process as the consumer pid.</summary>
    public RingConsumer CreateConsumer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _consumerTaken, 1) != 0)
        {
            throw new InvalidOperationException("This ring view already has a consumer.");
        }
        // Release: as for the producer pid.
        Volatile.Write(ref _header->ConsumerPid, ProcessInfo.CurrentPid);
        return new RingConsumer(this);
    }

    /// <summary>Closes the semaphores (and unlinks them if this view created them). The mapping is left alone.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        DisposeAndUnlink(_dataSemaphore, _spaceSemaphore, _ownedSemaphores);
    }

    public override string ToString() => $"ring of {Capacity} bytes (max record {MaxRecord}, {WakeMode}) over {_region}";

    // --- ordering-named accessors: every shared field is read and written only through these ----------

    /// <summary>Acquire-load of tail: records below it are completely written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long AcquireLoadTail() => Volatile.Read(ref _header->Tail);

    /// <summary>Release-store of tail: every record byte written before it becomes visible with it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseStoreTail(long value) => Volatile.Write(ref _header->Tail, value);

    /// <summary>Acquire-load of head: the consumer has finished reading the bytes below it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long AcquireLoadHead() => Volatile.Read(ref _header->Head);

    /// <summary>Release-store of head: the consumer's reads of the freed bytes happen before the producer reuses them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseStoreHead(long value) => Volatile.Write(ref _header->Head, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint VolatileReadConsumerSleeping() => Volatile.Read(ref _header->ConsumerSleeping);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void VolatileWriteConsumerSleeping(uint value) => Volatile.Write(ref _header->ConsumerSleeping, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint VolatileReadProducerSleeping() => Volatile.Read(ref _header->ProducerSleeping);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void VolatileWriteProducerSleeping(uint value) => Volatile.Write(ref _header->ProducerSleeping, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint VolatileReadDataSignal() => Volatile.Read(ref _header->DataSignal);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint VolatileReadSpaceSignal() => Volatile.Read(ref _header->SpaceSignal);

    /// <summary>Atomic increment of dataSignal (a full fence): a consumer that captured the old value cannot sleep through it.</summary>
    internal void InterlockedIncrementDataSignal() => Interlocked.Increment(ref _header->DataSignal);

    /// <summary>Atomic increment of spaceSignal (a full fence): a producer that captured the old value cannot sleep through it.</summary>
    internal void InterlockedIncrementSpaceSignal() => Interlocked.Increment(ref _header->SpaceSignal);

    internal int VolatileReadProducerPid() => Volatile.Read(ref _header->ProducerPid);

    internal int VolatileReadConsumerPid() => Volatile.Read(ref _header->ConsumerPid);

    internal uint* DataSignalAddress => &_header->DataSignal;

    internal uint* SpaceSignalAddress => &_header->SpaceSignal;

    /// <summary>Sleeps on the data signal while it holds <paramref name="expected"/>, until <paramref name="untilNs"/>; false when that passed.</summary>
    internal bool SleepOnData(uint expected, long untilNs)
        => WakeMode == RingWakeMode.Futex
            ? Futex.Wait(DataSignalAddress, expected, untilNs) != FutexWaitResult.TimedOut
            : SleepOnSemaphore(_dataSemaphore!, untilNs);

    /// <summary>Sleeps on the space signal while it holds <paramref name="expected"/>, until <paramref name="untilNs"/>; false when that passed.</summary>
    internal bool SleepOnSpace(uint expected, long untilNs)
        => WakeMode == RingWakeMode.Futex
            ? Futex.Wait(SpaceSignalAddress, expected, untilNs) != FutexWaitResult.TimedOut
            : SleepOnSemaphore(_spaceSemaphore!, untilNs);

    /// <summary>Wakes a consumer that announced it sleeps: the signal changes first, so one about to sleep does not.</summary>
    internal void WakeConsumer()
    {
        InterlockedIncrementDataSignal();
        if (ConsumerWaker is { } waker)
        {
            waker.Wake();
            return;
        }
        if (WakeMode == RingWakeMode.Futex)
        {
            Futex.Wake(DataSignalAddress, 1);
        }
        else
        {
            _dataSemaphore!.Post();
        }
    }

    /// <summary>Wakes a producer that announced it sleeps: the signal changes first, so one about to sleep does not.</summary>
    internal void WakeProducer()
    {
        InterlockedIncrementSpaceSignal();
        if (ProducerWaker is { } waker)
        {
            waker.Wake();
            return;
        }
        if (WakeMode == RingWakeMode.Futex)
        {
            Futex.Wake(SpaceSignalAddress, 1);
        }
        else
        {
            _spaceSemaphore!.Post();
        }
    }

    private static bool SleepOnSemaphore(NamedSemaphore semaphore, long untilNs)
    {
        if (!semaphore.Wait(untilNs))
        {
            return false;
        }
        // Posts that piled up while the flag stayed set would only cause spurious wake-ups later; the
        // caller re-checks the ring after every wake, so dropping them loses nothing.
        while (semaphore.TryWait())
        {
        }
        return true;
    }

    internal static int RecordSize(int length) => (RecordHeaderSize + length + (RecordAlign - 1)) & ~(RecordAlign - 1);

    /// <summary>Whether <paramref name="pid"/> (0: not attached yet, so unknown) is known to be gone.</summary>
    internal static bool IsPeerGone(int pid) => pid > 0 && !ProcessInfo.IsAlive(pid);

    private static void CheckRegion(MappedRegion region, long capacity)
    {
        if (region.Length < RequiredSize(capacity))
        {
            throw new ArgumentException(
                $"A ring of {capacity} data bytes needs a mapping of {RequiredSize(capacity)} bytes ({HeaderSize} header + data); this one has {region.Length}.",
                nameof(region));
        }
    }

    private static void CheckWakeMode(RingWakeMode wakeMode, RingSemaphoreNames? semaphores)
    {
        switch (wakeMode)
        {
            case RingWakeMode.Futex:
                break;
            case RingWakeMode.Semaphore:
                if (semaphores is null)
                {
                    throw new ArgumentException("A semaphore-mode ring needs the names of its two semaphores.", nameof(semaphores));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(wakeMode), wakeMode, "Unknown ring wake mode.");
        }
    }

    private static void DisposeAndUnlink(NamedSemaphore? data, NamedSemaphore? space, RingSemaphoreNames? owned)
    {
        data?.Dispose();
        space?.Dispose();
        // Unlink only what this view created (a failed create must not remove someone else's semaphore).
        if (owned is not null && data is not null)
        {
            NamedSemaphore.TryUnlink(owned.Data);
        }
        if (owned is not null && space is not null)
        {
            NamedSemaphore.TryUnlink(owned.Space);
        }
    }
}
