using System.Globalization;
using BenchmarkDotNet.Attributes;
using IpcCore.Rings;

namespace IpcCore.Benchmarks;

/// <summary>
/// The shared-memory SPSC ring on one thread (no contention): the pure cost of claiming, committing,
/// peeking and releasing a record, alone and in batches of 64 (one tail and one head publication per batch).
/// </summary>
[MemoryDiagnoser]
public class RingBenchmarks
{
    private const int Batch = 64;
    private readonly byte[] _payload = new byte[64];
    private MappedRegion _region = null!;
    private ShmRing _ring = null!;
    private RingProducer _producer = null!;
    private RingConsumer _consumer = null!;

    [GlobalSetup]
    public void Setup()
    {
        const long capacity = 1 << 16;
        _region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(capacity));
        _ring = ShmRing.Create(_region, capacity, 1024);
        _producer = _ring.CreateProducer();
        _consumer = _ring.CreateConsumer();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ring.Dispose();
        _region.Dispose();
    }

    [Benchmark(Description = "ring: TryWrite + TryPeek + Release, 64 B, one record")]
    public int WriteReadOne()
    {
        _producer.TryWrite(_payload);
        _consumer.TryPeek(out ReadOnlySpan<byte> record);
        _consumer.Release();
        return record.Length;
    }

    [Benchmark(Description = "ring: 64 x TryClaim, Commit, 64 x TryPeek, Release (per record)", OperationsPerInvoke = Batch)]
    public int WriteReadBatch()
    {
        for (int i = 0; i < Batch; i++)
        {
            _producer.TryClaim(_payload.Length, out Span<byte> destination);
            _payload.CopyTo(destination);
        }
        _producer.Commit();
        int total = 0;
        while (_consumer.TryPeek(out ReadOnlySpan<byte> record))
        {
            total += record.Length;
        }
        _consumer.Release();
        return total;
    }
}

/// <summary>
/// A producer (the benchmark thread) streaming 64-byte records to a consumer thread through the ring,
/// per record, in each wake mode: the throughput of the lock-free path plus whatever sleeping and waking
/// the two sides needed (printed at cleanup: a busy stream should make few wake-up calls).
/// </summary>
[MemoryDiagnoser]
public class RingStreamBenchmarks
{
    private const int Records = 100_000;
    private readonly byte[] _payload = new byte[64];
    private readonly string _semaphorePrefix = string.Create(CultureInfo.InvariantCulture, $"/ipccore-bench.{Environment.ProcessId}.ring");
    private MappedRegion _region = null!;
    private ShmRing _ring = null!;
    private RingProducer _producer = null!;
    private RingConsumer _consumer = null!;
    private Thread _consumerThread = null!;
    private long _consumed;
    private long _produced;
    private volatile bool _stop;

    [Params(RingWakeMode.Futex, RingWakeMode.Semaphore)]
    public RingWakeMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const long capacity = 1 << 16;
        _region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(capacity));
        RingSemaphoreNames? names = Mode == RingWakeMode.Semaphore ? new(_semaphorePrefix + ".data", _semaphorePrefix + ".space") : null;
        _ring = ShmRing.Create(_region, capacity, 1024, Mode, names);
        _producer = _ring.CreateProducer();
        _consumer = _ring.CreateConsumer();
        _consumerThread = new Thread(Consume) { IsBackground = true, Name = "ring consumer" };
        _consumerThread.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _consumerThread.Join();
        Console.WriteLine($"// ring stream ({Mode}): producer wake-ups {_producer.WakeupsSent}, sleeps {_producer.Sleeps}; consumer wake-ups {_consumer.WakeupsSent}, sleeps {_consumer.Sleeps}");
        _ring.Dispose();
        _region.Dispose();
    }

    [Benchmark(Description = "ring: stream 64 B records to another thread (per record)", OperationsPerInvoke = Records)]
    public long Stream()
    {
        long deadline = MonotonicClock.NowNs + 30_000_000_000;
        for (int i = 0; i < Records; i++)
        {
            if (_producer.Write(_payload, deadline) != RingWaitResult.Ready)
            {
                throw new InvalidOperationException("the consumer thread stopped consuming");
            }
        }
        _produced += Records;
        // The operation ends when the consumer has everything.
        var spin = new SpinWait();
        while (Volatile.Read(ref _consumed) < _produced)
        {
            spin.SpinOnce();
        }
        return _produced;
    }

    private void Consume()
    {
        long consumed = 0;
        while (!_stop)
        {
            if (_consumer.TryPeek(out _))
            {
                consumed++;
                if ((consumed & 31) == 0)
                {
                    _consumer.Release();
                    Volatile.Write(ref _consumed, consumed);
                }
                continue;
            }
            _consumer.Release();
            Volatile.Write(ref _consumed, consumed);
            _ = _consumer.WaitForData(MonotonicClock.NowNs + 100_000_000);
        }
    }
}
