using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IpcCore.Native;
using IpcCore.Rings;
using IpcCore.TestPeer;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests.Rings;

/// <summary>The ring within one process: layout, validation, records, wrap-around, batching, waits, a two-thread stress.</summary>
[TestFixture]
public sealed unsafe class ShmRingTests
{
    private const string Tag = "ringin";
    private const int Capacity = 4096;
    private static long Soon => MonotonicClock.NowNs + 50_000_000;
    private static long Later => MonotonicClock.NowNs + 30_000_000_000;

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    // --- layout --------------------------------------------------------------------------------------

    [Test]
    public void Header_field_offsets_and_size_are_the_frozen_constants_of_the_C_header()
    {
        Assert.That(Unsafe.SizeOf<RingHeader>(), Is.EqualTo((int)RingLayout.RING_HEADER_SIZE));
        Assert.That(Marshal.SizeOf<RingHeader>(), Is.EqualTo(384));
        (string Field, RingLayout Offset)[] expected =
        [
            (nameof(RingHeader.Magic), RingLayout.RING_OFFSET_MAGIC),
            (nameof(RingHeader.Version), RingLayout.RING_OFFSET_VERSION),
            (nameof(RingHeader.Capacity), RingLayout.RING_OFFSET_CAPACITY),
            (nameof(RingHeader.MaxRecord), RingLayout.RING_OFFSET_MAX_RECORD),
            (nameof(RingHeader.WakeMode), RingLayout.RING_OFFSET_WAKE_MODE),
            (nameof(RingHeader.ProducerPid), RingLayout.RING_OFFSET_PRODUCER_PID),
            (nameof(RingHeader.ConsumerPid), RingLayout.RING_OFFSET_CONSUMER_PID),
            (nameof(RingHeader.Tail), RingLayout.RING_OFFSET_TAIL),
            (nameof(RingHeader.DataSignal), RingLayout.RING_OFFSET_DATA_SIGNAL),
            (nameof(RingHeader.ProducerSleeping), RingLayout.RING_OFFSET_PRODUCER_SLEEPING),
            (nameof(RingHeader.Head), RingLayout.RING_OFFSET_HEAD),
            (nameof(RingHeader.SpaceSignal), RingLayout.RING_OFFSET_SPACE_SIGNAL),
            (nameof(RingHeader.ConsumerSleeping), RingLayout.RING_OFFSET_CONSUMER_SLEEPING),
        ];
        Assert.That(typeof(RingHeader).GetFields().Length, Is.EqualTo(expected.Length), "every header field is listed here");
        foreach ((string field, RingLayout offset) in expected)
        {
            Assert.That(Marshal.OffsetOf<RingHeader>(field).ToInt32(), Is.EqualTo((int)offset), field);
        }
        // Each side's line is two cache lines from the other's and from the config line.
        int line = (int)RingLayout.RING_CACHE_LINE;
        Assert.That(Distance(RingLayout.RING_OFFSET_CONFIG, RingLayout.RING_OFFSET_PRODUCER), Is.EqualTo(2 * line));
        Assert.That(Distance(RingLayout.RING_OFFSET_PRODUCER, RingLayout.RING_OFFSET_CONSUMER), Is.EqualTo(2 * line));
        Assert.That(Distance(RingLayout.RING_OFFSET_CONSUMER, RingLayout.RING_OFFSET_CONSUMER_SLEEPING) + sizeof(uint), Is.LessThanOrEqualTo(line));
        Assert.That(Distance(RingLayout.RING_OFFSET_PRODUCER, RingLayout.RING_OFFSET_PRODUCER_SLEEPING) + sizeof(uint), Is.LessThanOrEqualTo(line));
        Assert.That(ShmRing.HeaderSize % (int)RingLayout.RING_RECORD_ALIGN, Is.Zero);
    }

    private static int Distance(RingLayout from, RingLayout to) => (int)to - (int)from;

    [TestCase(RingWakeMode.Futex)]
    [TestCase(RingWakeMode.Semaphore)]
    public void The_protocol_never_touches_the_padding_lines_or_the_unused_rest_of_a_line(RingWakeMode mode)
    {
        using var fixture = new RingFixture(Capacity, 256, mode);
        byte* header = fixture.Region.Pointer;
        // Bytes no field covers: 32..127 (rest of config + line 64), 144..255 (rest of producer + line 192), 272..383.
        (int From, int To)[] unused = [(32, 128), (144, 256), (272, 384)];
        foreach ((int from, int to) in unused)
        {
            new Span<byte>(header + from, to - from).Fill(0xA5);
        }
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        producer.SpinCount = consumer.SpinCount = 0;
        // Sleep and wake both ways, and wrap around a few times.
        Task<RingWaitResult> waiter = Task.Factory.StartNew(() => consumer.WaitForData(Later), TaskCreationOptions.LongRunning);
        Thread.Sleep(50);
        Assert.That(producer.TryWrite(new byte[100]), Is.True);
        Assert.That(waiter.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(waiter.Result, Is.EqualTo(RingWaitResult.Ready));
        for (int i = 0; i < 200; i++)
        {
            while (producer.TryWrite(new byte[1 + (i * 37 % 200)]))
            {
            }
            while (consumer.TryPeek(out _))
            {
            }
            consumer.Release();
        }
        Assert.That(consumer.WaitForData(Soon), Is.EqualTo(RingWaitResult.TimedOut));
        foreach ((int from, int to) in unused)
        {
            Assert.That(new ReadOnlySpan<byte>(header + from, to - from).IndexOfAnyExcept((byte)0xA5), Is.EqualTo(-1), $"bytes {from}..{to}");
        }
    }

    // --- create / attach validation --------------------------------------------------------------------

    [Test]
    public void Create_refuses_bad_capacities_maxRecords_and_small_regions()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(8192));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmRing.Create(region, 2048, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmRing.Create(region, 6000, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmRing.Create(region, 4096, 0));
        var tooBig = Assert.Throws<ArgumentOutOfRangeException>(() => ShmRing.Create(region, 4096, 4096 / 2));
        Assert.That(tooBig!.Message, Does.Contain("2040"));
        var small = Assert.Throws<ArgumentException>(() => ShmRing.Create(region, 16384, 100));
        Assert.That(small!.Message, Does.Contain("16768").And.Contain(region.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Throws<ArgumentException>(() => ShmRing.Create(region, 4096, 100, RingWakeMode.Semaphore, semaphores: null));
        Assert.That(ShmRing.MaxRecordFor(4096), Is.EqualTo(2040));
    }

    [Test]
    public void Attach_validates_magic_version_and_capacity_against_the_mapping()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(8192));
        var none = Assert.Throws<InvalidDataException>(() => ShmRing.Attach(region));
        Assert.That(none!.Message, Does.Contain("magic"));

        using (ShmRing.Create(region, 8192, 1000))
        {
        }
        using (ShmRing attached = ShmRing.Attach(region))
        {
            Assert.That(attached.Capacity, Is.EqualTo(8192));
            Assert.That(attached.MaxRecord, Is.EqualTo(1000));
            Assert.That(attached.WakeMode, Is.EqualTo(RingWakeMode.Futex));
        }

        var header = (RingHeader*)region.Pointer;
        header->Version = 99;
        Assert.That(Assert.Throws<InvalidDataException>(() => ShmRing.Attach(region))!.Message, Does.Contain("version 99"));
        header->Version = (uint)RingLayout.RING_VERSION;
        header->Capacity = 16384;
        Assert.That(Assert.Throws<InvalidDataException>(() => ShmRing.Attach(region))!.Message, Does.Contain("16384").And.Contain("16768"));
        header->Capacity = 5000;
        Assert.That(Assert.Throws<InvalidDataException>(() => ShmRing.Attach(region))!.Message, Does.Contain("power of two"));
    }

    // --- records ---------------------------------------------------------------------------------------
    [Test]
    public void Attach_refuses_a_read_only_mapping_and_a_semaphore_ring_without_names()
    {
        string name = TestNames.Posix(Tag + "-shm");
        try
        {
            using SharedMemory shm = SharedMemory.Create(name, ShmRing.RequiredSize(Capacity));
            using (ShmRing.Create(shm.Region, Capacity, 100))
            {
            }
            using SharedMemory readOnly = SharedMemory.Open(name, writable: false);
            Assert.That(Assert.Throws<ArgumentException>(() => ShmRing.Attach(readOnly.Region))!.Message, Does.Contain("writable"));

            var header = (RingHeader*)shm.Region.Pointer;
            header->WakeMode = (uint)RingWakeMode.Semaphore;
            Assert.Throws<ArgumentException>(() => ShmRing.Attach(shm.Region));
            header->WakeMode = 7;
            Assert.That(Assert.Throws<InvalidDataException>(() => ShmRing.Attach(shm.Region))!.Message, Does.Contain("wake mode 7"));
        }
        finally
        {
            SharedMemory.TryUnlink(name);
        }
    }

    [Test]
    public void A_failed_semaphore_create_leaves_no_semaphore_of_its_own_and_keeps_anothers()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(Capacity));
        var names = new RingSemaphoreNames(TestNames.Posix(Tag + "-data"), TestNames.Posix(Tag + "-space"));
        using NamedSemaphore existing = NamedSemaphore.Create(names.Space);
        try
        {
            Assert.Throws<IpcException>(() => ShmRing.Create(region, Capacity, 100, RingWakeMode.Semaphore, names));
            Assert.That(NamedSemaphore.TryUnlink(names.Data), Is.False, "the data semaphore it created was unlinked again");
            Assert.That(NamedSemaphore.TryUnlink(names.Space), Is.True, "the space semaphore that existed before was left alone");
        }
        finally
        {
            NamedSemaphore.TryUnlink(names.Data);
            NamedSemaphore.TryUnlink(names.Space);
        }
    }

    [Test]
    public void A_malformed_record_header_is_reported_as_corruption_not_returned()
    {
        using var fixture = new RingFixture(Capacity, 256);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        Assert.That(producer.TryWrite(new byte[16]), Is.True);
        byte* data = fixture.Region.Pointer + ShmRing.HeaderSize;
        *(uint*)(data + 4) = 99; // an unknown kind
        Assert.That(Assert.Throws<InvalidDataException>(() => consumer.TryPeek(out _))!.Message, Does.Contain("kind 99"));
        *(uint*)(data + 4) = 1;
        *(uint*)data = 1000; // longer than maxRecord
        Assert.That(Assert.Throws<InvalidDataException>(() => consumer.TryPeek(out _))!.Message, Does.Contain("length 1000"));
        *(uint*)data = 16;
        Assert.That(consumer.TryPeek(out ReadOnlySpan<byte> record), Is.True);
        Assert.That(record.Length, Is.EqualTo(16));
    }


    [Test]
    public void An_empty_ring_has_nothing_to_peek_and_a_wait_for_data_times_out()
    {
        using var fixture = new RingFixture(Capacity, 256);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        Assert.That(consumer.TryPeek(out _), Is.False);
        Assert.That(consumer.HasData(), Is.False);

        var clock = Stopwatch.StartNew();
        Assert.That(consumer.WaitForData(MonotonicClock.NowNs + 100_000_000), Is.EqualTo(RingWaitResult.TimedOut));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(90)));
        Assert.That(consumer.Sleeps, Is.GreaterThanOrEqualTo(1));
        Assert.That(producer.HasSpaceFor(256), Is.True);
    }

    [Test]
    public void One_byte_and_maxRecord_records_round_trip_and_larger_ones_are_refused()
    {
        using var fixture = new RingFixture(Capacity, ShmRing.MaxRecordFor(Capacity));
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        int max = fixture.Ring.MaxRecord;
        byte[] big = new byte[max];
        new Random(1).NextBytes(big);
        for (int round = 0; round < 10; round++)
        {
            Assert.That(producer.TryWrite([(byte)round]), Is.True);
            Assert.That(producer.TryWrite(big), Is.True);
            Assert.That(producer.TryWrite([]), Is.True);
            Assert.That(consumer.TryPeek(out ReadOnlySpan<byte> one), Is.True);
            Assert.That(one.ToArray(), Is.EqualTo(new[] { (byte)round }));
            Assert.That(consumer.TryPeek(out ReadOnlySpan<byte> whole), Is.True);
            Assert.That(whole.SequenceEqual(big), Is.True);
            Assert.That(consumer.TryPeek(out ReadOnlySpan<byte> empty), Is.True);
            Assert.That(empty.Length, Is.Zero);
            consumer.Release();
        }

        var e = Assert.Throws<ArgumentException>(() => producer.TryWrite(new byte[max + 1]));
        Assert.That(e!.Message, Does.Contain((max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).And.Contain(max.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Throws<ArgumentException>(() => producer.TryClaim(max + 1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => producer.TryClaim(-1, out _));
        Assert.That(consumer.TryPeek(out _), Is.False, "a refused record leaves nothing behind");
    }

    [Test]
    public void Claimed_records_are_invisible_until_Commit_and_freed_space_until_Release()
    {
        using var fixture = new RingFixture(Capacity, 512);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        for (int i = 0; i < 5; i++)
        {
            Assert.That(producer.TryClaim(100, out Span<byte> destination), Is.True);
            destination.Fill((byte)i);
        }
        Assert.That(producer.UncommittedBytes, Is.EqualTo(5 * 112));
        Assert.That(consumer.TryPeek(out _), Is.False, "nothing is visible before Commit");
        Assert.That(consumer.HasData(), Is.False);
        producer.Commit();
        Assert.That(producer.UncommittedBytes, Is.Zero);
        for (int i = 0; i < 5; i++)
        {
            Assert.That(consumer.TryPeek(out ReadOnlySpan<byte> record), Is.True);
            Assert.That(record.Length, Is.EqualTo(100));
            Assert.That(record.IndexOfAnyExcept((byte)i), Is.EqualTo(-1));
        }
        Assert.That(consumer.TryPeek(out _), Is.False);

        // Fill the rest: the peeked records are not freed until Release.
        int written = 0;
        while (producer.TryWrite(new byte[100]))
        {
            written++;
        }
        Assert.That(written, Is.EqualTo((Capacity - 5 * 112) / 112));
        Assert.That(producer.HasSpaceFor(100), Is.False);
        consumer.Release();
        Assert.That(producer.HasSpaceFor(100), Is.True);
        Assert.That(fixture.Header->Head, Is.EqualTo(5 * 112));
        Assert.That(fixture.Header->Tail, Is.EqualTo((5 + written) * 112));
    }

    [TestCase(1)]
    [TestCase(42)]
    [TestCase(20260101)]
    public void Wrap_around_with_random_record_sizes_keeps_every_byte(int seed)
    {
        using var fixture = new RingFixture(Capacity, 700);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        var random = new Random(seed);
        var expected = new Queue<byte[]>();
        long paddings = 0;
        for (int step = 0; step < 20_000; step++)
        {
            // A random burst of claims, committed at once, then a random number of reads.
            int burst = random.Next(1, 6);
            for (int i = 0; i < burst; i++)
            {
                byte[] payload = new byte[random.Next(0, 701)];
                random.NextBytes(payload);
                long before = producer.UncommittedBytes + fixture.Header->Tail;
                if (!producer.TryClaim(payload.Length, out Span<byte> destination))
                {
                    break;
                }
                if ((before & (Capacity - 1)) + ShmRing.RecordSize(payload.Length) > Capacity)
                {
                    paddings++;
                }
                payload.CopyTo(destination);
                expected.Enqueue(payload);
            }
            producer.Commit();
            int reads = random.Next(0, 6);
            for (int i = 0; i < reads && consumer.TryPeek(out ReadOnlySpan<byte> record); i++)
            {
                byte[] want = expected.Dequeue();
                Assert.That(record.SequenceEqual(want), Is.True, $"step {step}: a record of {record.Length} bytes, expected {want.Length}");
            }
            if (random.Next(3) == 0)
            {
                consumer.Release();
            }
        }
        while (consumer.TryPeek(out ReadOnlySpan<byte> record))
        {
            Assert.That(record.SequenceEqual(expected.Dequeue()), Is.True);
        }
        consumer.Release();
        Assert.That(expected, Is.Empty);
        Assert.That(fixture.Header->Tail, Is.GreaterThan(100 * Capacity), "wrapped around many times");
        Assert.That(paddings, Is.GreaterThan(100), "wrapped with padding records");
        Assert.That(fixture.Header->Head, Is.EqualTo(fixture.Header->Tail));
    }

    [Test]
    public void The_data_paths_allocate_nothing()
    {
        using var fixture = new RingFixture(Capacity, 256);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        byte[] payload = new byte[100];
        void Round()
        {
            for (int i = 0; i < 1000; i++)
            {
                producer.TryWrite(payload);
                producer.TryClaim(30, out Span<byte> d);
                d.Clear();
                producer.Commit();
                consumer.TryPeek(out _);
                consumer.TryPeek(out _);
                consumer.Release();
                _ = consumer.WaitForData(0);
            }
        }
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    // --- waiting ---------------------------------------------------------------------------------------

    [TestCase(RingWakeMode.Futex, 0)]
    [TestCase(RingWakeMode.Futex, 100)]
    [TestCase(RingWakeMode.Semaphore, 0)]
    public void A_producer_waiting_on_a_full_ring_continues_once_the_consumer_frees_space(RingWakeMode mode, int spinCount)
    {
        using var fixture = new RingFixture(Capacity, 1000, mode);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        producer.SpinCount = consumer.SpinCount = spinCount;
        int written = 0;
        while (producer.TryWrite(new byte[1000]))
        {
            written++;
        }
        Assert.That(written, Is.EqualTo(Capacity / 1008));
        Assert.That(producer.WaitForSpace(1000, Soon), Is.EqualTo(RingWaitResult.TimedOut));

        Task<RingWaitResult> waiter = Task.Factory.StartNew(() => producer.WaitForSpace(1000, Later), TaskCreationOptions.LongRunning);
        Thread.Sleep(100);
        Assert.That(waiter.IsCompleted, Is.False, "the producer waits while the ring is full");
        Assert.That(consumer.TryPeek(out _), Is.True);
        consumer.Release();
        Assert.That(waiter.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(waiter.Result, Is.EqualTo(RingWaitResult.Ready));
        Assert.That(producer.TryWrite(new byte[1000]), Is.True);
        Assert.That(producer.Sleeps, Is.GreaterThanOrEqualTo(1));
        Assert.That(consumer.WakeupsSent, Is.GreaterThanOrEqualTo(1));
    }

    [TestCase(RingWakeMode.Futex)]
    [TestCase(RingWakeMode.Semaphore)]
    public void A_consumer_waiting_on_an_empty_ring_is_woken_by_a_commit(RingWakeMode mode)
    {
        using var fixture = new RingFixture(Capacity, 256, mode);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        consumer.SpinCount = 0;
        // One long sleep (no peer-check slices), so the commit below certainly finds the consumer asleep.
        consumer.PeerCheckInterval = TimeSpan.FromSeconds(30);
        Task<RingWaitResult> waiter = Task.Factory.StartNew(() => consumer.WaitForData(Later), TaskCreationOptions.LongRunning);
        Thread.Sleep(100);
        Assert.That(waiter.IsCompleted, Is.False);
        Assert.That(producer.TryWrite([1, 2, 3]), Is.True);
        Assert.That(waiter.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(waiter.Result, Is.EqualTo(RingWaitResult.Ready));
        Assert.That(producer.WakeupsSent, Is.EqualTo(1));
        Assert.That(consumer.TryPeek(out ReadOnlySpan<byte> record), Is.True);
        Assert.That(record.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));

        // Nobody sleeps now: commits make no wake-up calls.
        for (int i = 0; i < 10; i++)
        {
            producer.TryWrite([4]);
        }
        Assert.That(producer.WakeupsSent, Is.EqualTo(1));
    }

    // --- stress ------------------------------------------------------------------------------------------

    [TestCase(RingWakeMode.Futex, 1_000_000)]
    [TestCase(RingWakeMode.Semaphore, 300_000)]
    public void Two_threads_pass_records_without_loss_duplication_or_tearing(RingWakeMode mode, int count)
    {
        const int maxLength = 120;
        using var fixture = new RingFixture(65536, 1024, mode);
        RingProducer producer = fixture.Ring.CreateProducer();
        RingConsumer consumer = fixture.Ring.CreateConsumer();
        var clock = Stopwatch.StartNew();
        Task<string?> producing = Task.Factory.StartNew(() =>
        {
            int claimed = 0;
            for (ulong seq = 0; seq < (ulong)count; seq++)
            {
                int length = RingRecords.LengthOf(seq, maxLength);
                Span<byte> destination;
                while (!producer.TryClaim(length, out destination))
                {
                    claimed = 0;
                    RingWaitResult wait = producer.WaitForSpace(length, Later);
                    if (wait != RingWaitResult.Ready)
                    {
                        return $"producer wait {wait} at {seq}";
                    }
                }
                RingRecords.Fill(destination, seq);
                if (++claimed == 16)
                {
                    producer.Commit();
                    claimed = 0;
                }
            }
            producer.Commit();
            return null;
        }, TaskCreationOptions.LongRunning);

        string? error = null;
        ulong next = 0;
        while (next < (ulong)count && error is null)
        {
            if (!consumer.TryPeek(out ReadOnlySpan<byte> record))
            {
                RingWaitResult wait = consumer.WaitForData(Later);
                if (wait != RingWaitResult.Ready)
                {
                    error = $"consumer wait {wait} at {next}";
                }
                continue;
            }
            error = RingRecords.Check(record, next, maxLength);
            next++;
            if ((next & 31) == 0)
            {
                consumer.Release();
            }
        }
        consumer.Release();
        Assert.That(producing.Wait(TimeSpan.FromSeconds(60)), Is.True);
        Assert.That(error, Is.Null);
        Assert.That(producing.Result, Is.Null);
        Assert.That(next, Is.EqualTo((ulong)count));
        Assert.That(consumer.TryPeek(out _), Is.False, "nothing beyond the last record");
        TestContext.Out.WriteLine($"{mode}: {count:N0} records in {clock.Elapsed.TotalMilliseconds:F0} ms; producer wake-ups {producer.WakeupsSent}, sleeps {producer.Sleeps}; consumer wake-ups {consumer.WakeupsSent}, sleeps {consumer.Sleeps}");
    }

    /// <summary>A ring over anonymous shared memory; semaphore mode gets test-unique names, unlinked by the ring.</summary>
    private sealed class RingFixture : IDisposable
    {
        public RingFixture(long capacity, int maxRecord, RingWakeMode mode = RingWakeMode.Futex)
        {
            Region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(capacity));
            RingSemaphoreNames? names = mode == RingWakeMode.Semaphore
                ? new RingSemaphoreNames(TestNames.Posix(Tag + "-data"), TestNames.Posix(Tag + "-space"))
                : null;
            Ring = ShmRing.Create(Region, capacity, maxRecord, mode, names);
        }

        public MappedRegion Region { get; }

        public ShmRing Ring { get; }

        public RingHeader* Header => (RingHeader*)Region.Pointer;

        public void Dispose()
        {
            Ring.Dispose();
            Region.Dispose();
        }
    }
}
