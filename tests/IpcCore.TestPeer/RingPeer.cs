using System.Globalization;
using IpcCore.Rings;

namespace IpcCore.TestPeer;

/// <summary>Peer commands for the shared-memory ring tests: the test creates the ring, the peer attaches.</summary>
internal static class RingPeer
{
    private static readonly long s_waitNs = 30_000_000_000;

    /// <summary>
    /// <c>ring-produce &lt;shm&gt; &lt;count&gt; &lt;maxLength&gt; &lt;batch&gt; &lt;semData|-&gt; &lt;semSpace|-&gt;</c>:
    /// attaches as producer, prints "ready", writes records 0..count-1 (<see cref="RingRecords"/>; count -1:
    /// forever) committing every <c>batch</c> records, prints "done &lt;wakeupsSent&gt; &lt;sleeps&gt;".
    /// Exits 0, or 3 when a wait for space did not end Ready (the consumer vanished).
    /// </summary>
    [PeerCommand("ring-produce")]
    public static int Produce(string[] args)
    {
        long count = long.Parse(args[1], CultureInfo.InvariantCulture);
        int maxLength = int.Parse(args[2], CultureInfo.InvariantCulture);
        int batch = int.Parse(args[3], CultureInfo.InvariantCulture);
        using SharedMemory shm = SharedMemory.Open(args[0]);
        using ShmRing ring = ShmRing.Attach(shm.Region, Semaphores(args, 4));
        RingProducer producer = ring.CreateProducer();
        Console.WriteLine("ready");
        int claimed = 0;
        for (ulong seq = 0; count < 0 || seq < (ulong)count; seq++)
        {
            int length = RingRecords.LengthOf(seq, maxLength);
            Span<byte> destination;
            while (!producer.TryClaim(length, out destination))
            {
                claimed = 0;
                RingWaitResult result = producer.WaitForSpace(length, MonotonicClock.NowNs + s_waitNs);
                if (result != RingWaitResult.Ready)
                {
                    Console.WriteLine($"wait {result}");
                    return 3;
                }
            }
            RingRecords.Fill(destination, seq);
            if (++claimed >= batch)
            {
                producer.Commit();
                claimed = 0;
            }
        }
        producer.Commit();
        Console.WriteLine($"done {producer.WakeupsSent} {producer.Sleeps}");
        return 0;
    }

    /// <summary>
    /// <c>ring-consume &lt;shm&gt; &lt;count&gt; &lt;maxLength&gt; &lt;stallAfter&gt; &lt;semData|-&gt; &lt;semSpace|-&gt;</c>:
    /// attaches as consumer, prints "ready", reads and checks records 0..count-1, prints "ok &lt;wakeupsSent&gt;
    /// &lt;sleeps&gt;" and exits 0 (1 with the reason on a bad record, 3 when a wait did not end Ready). With
    /// stallAfter ≥ 0 it stops after that many records, prints "stalled" and sleeps until killed.
    /// </summary>
    [PeerCommand("ring-consume")]
    public static int Consume(string[] args)
    {
        long count = long.Parse(args[1], CultureInfo.InvariantCulture);
        int maxLength = int.Parse(args[2], CultureInfo.InvariantCulture);
        long stallAfter = long.Parse(args[3], CultureInfo.InvariantCulture);
        using SharedMemory shm = SharedMemory.Open(args[0]);
        using ShmRing ring = ShmRing.Attach(shm.Region, Semaphores(args, 4));
        RingConsumer consumer = ring.CreateConsumer();
        Console.WriteLine("ready");
        ulong seq = 0;
        while ((long)seq < count)
        {
            if (stallAfter >= 0 && (long)seq == stallAfter)
            {
                consumer.Release();
                Console.WriteLine("stalled");
                Thread.Sleep(Timeout.Infinite);
            }
            if (!consumer.TryPeek(out ReadOnlySpan<byte> record))
            {
                RingWaitResult result = consumer.WaitForData(MonotonicClock.NowNs + s_waitNs);
                if (result != RingWaitResult.Ready)
                {
                    Console.WriteLine($"wait {result} after {seq} records");
                    return 3;
                }
                continue;
            }
            string? error = RingRecords.Check(record, seq, maxLength);
            if (error is not null)
            {
                Console.WriteLine("bad " + error);
                return 1;
            }
            seq++;
            if ((seq & 63) == 0)
            {
                consumer.Release();
            }
        }
        consumer.Release();
        Console.WriteLine($"ok {consumer.WakeupsSent} {consumer.Sleeps}");
        return 0;
    }

    private static RingSemaphoreNames? Semaphores(string[] args, int index)
        => args.Length > index + 1 && args[index] != "-" ? new RingSemaphoreNames(args[index], args[index + 1]) : null;
}
