using IpcCore.Rings;
using NUnit.Framework;

namespace IpcCore.Tests.Rings;

/// <summary>A byte stream over ring records (how the shm transport carries frames), and the pluggable waker.</summary>
[TestFixture]
public sealed class RingStreamTests
{
    private sealed class CountingWaker : IRingWaker
    {
        public int Wakes;

        public void Wake() => Wakes++;
    }

    [Test]
    public void A_stream_larger_than_the_ring_passes_in_chunks_of_maxRecord_with_partial_reads_and_writes()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(4096));
        using ShmRing ring = ShmRing.Create(region, 4096, ShmRing.MaxRecordFor(4096));
        var writer = new RingStreamWriter(ring.CreateProducer());
        var reader = new RingStreamReader(ring.CreateConsumer());
        byte[] source = new byte[100_000];
        new Random(7).NextBytes(source);
        byte[] sink = new byte[source.Length];
        int written = 0, read = 0;
        var rng = new Random(11);
        while (read < source.Length)
        {
            if (written < source.Length)
            {
                int n = writer.Write(source.AsSpan(written, Math.Min(source.Length - written, rng.Next(1, 6000))));
                written += n;
            }
            // Odd-sized reads leave the reader inside a record.
            read += reader.Read(sink.AsSpan(read, Math.Min(sink.Length - read, rng.Next(1, 700))));
        }
        Assert.That(sink, Is.EqualTo(source));
        Assert.That(reader.HasData, Is.False);
        Assert.That(writer.Write(new byte[10_000]), Is.GreaterThan(0).And.LessThanOrEqualTo(4096));
    }

    [Test]
    public void A_partly_read_record_is_not_released_so_the_writer_cannot_overwrite_it()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(4096));
        using ShmRing ring = ShmRing.Create(region, 4096, ShmRing.MaxRecordFor(4096));
        var writer = new RingStreamWriter(ring.CreateProducer());
        var reader = new RingStreamReader(ring.CreateConsumer());
        byte[] full = new byte[4096];
        full.AsSpan().Fill(1);
        int first = writer.Write(full);
        Assert.That(first, Is.LessThan(4096), "the ring is full after less than its capacity (record headers)");
        byte[] part = new byte[10];
        Assert.That(reader.Read(part), Is.EqualTo(10));
        // Only whole records already read could be freed; the first record is still being read.
        int more = writer.Write(full);
        Assert.That(more, Is.Zero, "nothing was released yet, so nothing fits");
        byte[] rest = new byte[first];
        Assert.That(reader.Read(rest), Is.EqualTo(first - 10));
        Assert.That(rest.AsSpan(0, first - 10).ToArray(), Is.All.EqualTo(1));
        Assert.That(writer.Write(full), Is.GreaterThan(0), "all read: the space is free again");
    }

    [Test]
    public void A_consumer_waker_replaces_the_futex_wake_when_the_consumer_announced_an_external_sleep()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(ShmRing.RequiredSize(4096));
        using ShmRing ring = ShmRing.Create(region, 4096, 1000);
        var waker = new CountingWaker();
        ring.ConsumerWaker = waker;
        ring.ProducerWaker = waker;
        RingProducer producer = ring.CreateProducer();
        RingConsumer consumer = ring.CreateConsumer();

        Assert.That(producer.TryWrite("busy"u8), Is.True);
        Assert.That(waker.Wakes, Is.Zero, "nobody sleeps: no wake-up (no system call)");
        Assert.That(consumer.BeginExternalSleep(), Is.True, "data is there: do not block");
        Assert.That(consumer.TryPeek(out _), Is.True);
        consumer.Release();
        Assert.That(consumer.BeginExternalSleep(), Is.False, "empty: may sleep");
        Assert.That(producer.TryWrite("ring"u8), Is.True);
        Assert.That(waker.Wakes, Is.EqualTo(1), "the sleeping consumer is woken through the waker");
        consumer.EndExternalSleep();
        Assert.That(producer.TryWrite("again"u8), Is.True);
        Assert.That(waker.Wakes, Is.EqualTo(1), "awake again: no more wake-ups");

        Assert.That(producer.BeginExternalSleep(8), Is.True, "there is space: do not block");
        while (producer.TryWrite(new byte[1000]))
        {
        }
        Assert.That(producer.BeginExternalSleep(1000), Is.False, "full: may sleep");
        while (consumer.TryPeek(out _))
        {
        }
        consumer.Release();
        Assert.That(waker.Wakes, Is.EqualTo(2), "the sleeping producer is woken through the waker");
        producer.EndExternalSleep();
    }

    [Test]
    public void The_eventfd_waker_signals_the_doorbell()
    {
        using EventFd doorbell = EventFd.Create(nonBlocking: true);
        var waker = new EventFdRingWaker(doorbell);
        waker.Wake();
        waker.Wake();
        Assert.That(doorbell.TryRead(out ulong value), Is.True);
        Assert.That(value, Is.EqualTo(2UL));
        Assert.That(doorbell.TryRead(out _), Is.False);
    }
}
