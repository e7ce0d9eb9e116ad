using System.Diagnostics;
using System.Globalization;
using IpcCore.Rings;
using IpcCore.TestPeer;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests.Rings;

/// <summary>
/// The ring between two real processes (IpcCore.TestPeer ring-produce / ring-consume) over POSIX shared
/// memory: a long stress, and a peer SIGKILLed mid-stream, in both wake modes.
/// </summary>
[TestFixture]
public sealed class ShmRingCrossProcessTests
{
    private const string Tag = "ringx";
    private const int MaxLength = 40;
    private const int SigKill = 9;
    private static readonly TimeSpan s_peerTimeout = TimeSpan.FromSeconds(30);
    private static long Later => MonotonicClock.NowNs + 30_000_000_000;

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    [TestCase(RingWakeMode.Futex, 10_000_000)]
    [TestCase(RingWakeMode.Semaphore, 10_000_000)]
    public void Records_cross_between_processes_without_loss_duplication_or_tearing(RingWakeMode mode, int count)
    {
        using var ring = new SharedRing(1 << 20, mode);
        RingConsumer consumer = ring.Ring.CreateConsumer();
        using Peer peer = Peer.Start("ring-produce", [ring.Name, count.ToString(CultureInfo.InvariantCulture),
            MaxLength.ToString(CultureInfo.InvariantCulture), "32", .. ring.SemaphoreArgs]);
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));

        var clock = Stopwatch.StartNew();
        ulong next = 0;
        string? error = null;
        while (next < (ulong)count && error is null)
        {
            if (!consumer.TryPeek(out ReadOnlySpan<byte> record))
            {
                RingWaitResult wait = consumer.WaitForData(Later);
                if (wait != RingWaitResult.Ready)
                {
                    error = $"consumer wait {wait} after {next} records; peer stderr: {peer.StandardErrorSoFar()}";
                }
                continue;
            }
            error = RingRecords.Check(record, next, MaxLength);
            next++;
            if ((next & 63) == 0)
            {
                consumer.Release();
            }
        }
        consumer.Release();
        TimeSpan elapsed = clock.Elapsed;
        Assert.That(error, Is.Null);
        Assert.That(next, Is.EqualTo((ulong)count));
        string done = peer.ReadLine(s_peerTimeout);
        Assert.That(peer.WaitForExit(s_peerTimeout), Is.Zero, peer.StandardErrorSoFar());
        Assert.That(done, Does.StartWith("done "));
        Assert.That(consumer.TryPeek(out _), Is.False, "nothing beyond the last record");
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{mode}: {count:N0} records across processes in {elapsed.TotalSeconds:F2} s ({count / elapsed.TotalSeconds / 1e6:F2} M records/s); producer (wake-ups, sleeps): {done[5..]}; consumer wake-ups {consumer.WakeupsSent}, sleeps {consumer.Sleeps}"));
    }

    [TestCase(RingWakeMode.Futex)]
    [TestCase(RingWakeMode.Semaphore)]
    public void A_producer_killed_mid_stream_leaves_only_complete_records_and_the_consumer_sees_it_gone(RingWakeMode mode)
    {
        using var ring = new SharedRing(1 << 16, mode);
        RingConsumer consumer = ring.Ring.CreateConsumer();
        using Peer peer = Peer.Start("ring-produce", [ring.Name, "-1", MaxLength.ToString(CultureInfo.InvariantCulture), "8", .. ring.SemaphoreArgs]);
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));
        var killer = new Killer(peer, 200_000);

        ulong next = 0;
        RingWaitResult final;
        while (true)
        {
            if (consumer.TryPeek(out ReadOnlySpan<byte> record))
            {
                // Every record read, before and after the kill, is complete and in sequence.
                string? error = RingRecords.Check(record, next, MaxLength);
                Assert.That(error, Is.Null);
                next++;
                if ((next & 63) == 0)
                {
                    consumer.Release();
                    killer.Progress((long)next);
                }
                continue;
            }
            RingWaitResult wait = consumer.WaitForData(Later);
            if (wait != RingWaitResult.Ready)
            {
                final = wait;
                break;
            }
        }
        killer.Finish();
        Assert.That(final, Is.AnyOf(RingWaitResult.PeerGone, RingWaitResult.TimedOut));
        Assert.That(final, Is.EqualTo(RingWaitResult.PeerGone), "the killed, reaped producer is detected as gone");
        Assert.That(killer.SinceKill, Is.LessThan(TimeSpan.FromSeconds(10)), "the consumer never hangs on a dead producer");
        TestContext.Out.WriteLine($"{mode}: killed at {killer.KilledAt:N0} records read; {next:N0} complete records read in all; the wait returned {final} {killer.SinceKill.TotalMilliseconds:F0} ms after the kill");
    }

    [TestCase(RingWakeMode.Futex)]
    [TestCase(RingWakeMode.Semaphore)]
    public void A_consumer_killed_mid_stream_makes_the_producers_wait_for_space_end(RingWakeMode mode)
    {
        using var ring = new SharedRing(1 << 16, mode);
        RingProducer producer = ring.Ring.CreateProducer();
        using Peer peer = Peer.Start("ring-consume", [ring.Name, "1000000000000", MaxLength.ToString(CultureInfo.InvariantCulture), "-1", .. ring.SemaphoreArgs]);
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));
        var killer = new Killer(peer, 200_000);

        ulong seq = 0;
        byte[] buffer = new byte[MaxLength];
        RingWaitResult final;
        while (true)
        {
            int length = RingRecords.LengthOf(seq, MaxLength);
            RingRecords.Fill(buffer.AsSpan(0, length), seq);
            if (producer.TryWrite(buffer.AsSpan(0, length)))
            {
                seq++;
                if ((seq & 63) == 0)
                {
                    killer.Progress((long)seq);
                }
                continue;
            }
            RingWaitResult wait = producer.WaitForSpace(length, Later);
            if (wait != RingWaitResult.Ready)
            {
                final = wait;
                break;
            }
        }
        killer.Finish();
        Assert.That(final, Is.AnyOf(RingWaitResult.PeerGone, RingWaitResult.TimedOut));
        Assert.That(final, Is.EqualTo(RingWaitResult.PeerGone), "the killed, reaped consumer is detected as gone");
        Assert.That(killer.SinceKill, Is.LessThan(TimeSpan.FromSeconds(10)), "the producer never hangs on a dead consumer");
        TestContext.Out.WriteLine($"{mode}: killed at {killer.KilledAt:N0} records written; {seq:N0} written in all; the wait returned {final} {killer.SinceKill.TotalMilliseconds:F0} ms after the kill");
    }

    /// <summary>SIGKILLs the peer from another thread once the test's side passed a record count, while the stream runs on.</summary>
    private sealed class Killer
    {
        private readonly Task _task;
        private readonly Stopwatch _sinceKill = new();
        private long _progress;

        public Killer(Peer peer, long killAfter)
        {
            _task = Task.Factory.StartNew(() =>
            {
                long deadline = Environment.TickCount64 + 60_000;
                while (Volatile.Read(ref _progress) < killAfter && Environment.TickCount64 < deadline)
                {
                    Thread.Sleep(1);
                }
                KilledAt = Volatile.Read(ref _progress);
                ProcessInfo.Signal(peer.Pid, SigKill);
                _sinceKill.Start();
                // Reap it, so its pid really is gone (a zombie still "exists").
                int exit = peer.WaitForExit(s_peerTimeout);
                Assert.That(exit, Is.Not.Zero);
            }, TaskCreationOptions.LongRunning);
        }

        public long KilledAt { get; private set; }

        public TimeSpan SinceKill => _sinceKill.Elapsed;

        public void Progress(long count) => Volatile.Write(ref _progress, count);

        public void Finish()
        {
            Assert.That(_task.Wait(s_peerTimeout), Is.True, "the peer was killed");
            _sinceKill.Stop();
        }
    }

    /// <summary>A ring in a fresh POSIX shared memory object (and semaphores), all unlinked when disposed.</summary>
    private sealed class SharedRing : IDisposable
    {
        private readonly SharedMemory _shm;

        public SharedRing(long capacity, RingWakeMode mode)
        {
            Name = TestNames.Posix(Tag + "-shm");
            RingSemaphoreNames? names = mode == RingWakeMode.Semaphore
                ? new RingSemaphoreNames(TestNames.Posix(Tag + "-data"), TestNames.Posix(Tag + "-space"))
                : null;
            _shm = SharedMemory.Create(Name, ShmRing.RequiredSize(capacity));
            try
            {
                Ring = ShmRing.Create(_shm.Region, capacity, ShmRing.MaxRecordFor(capacity), mode, names);
            }
            catch
            {
                _shm.Dispose();
                SharedMemory.TryUnlink(Name);
                throw;
            }
            SemaphoreArgs = names is null ? ["-", "-"] : [names.Data, names.Space];
        }

        public string Name { get; }

        public ShmRing Ring { get; }

        public string[] SemaphoreArgs { get; }

        public void Dispose()
        {
            try
            {
                Ring.Dispose();
                _shm.Dispose();
            }
            finally
            {
                SharedMemory.TryUnlink(Name);
            }
        }
    }
}
