using IpcCore.Protocol;
using MyIpcBench.Model;

namespace MyIpcBench;

/// <summary>Turns the settings into the list of cases, each with its message count.</summary>
internal static class CasePlanner
{
    /// <summary>The brief's comparison: 1,000,000 messages per case.</summary>
    public const long DefaultMessages = 1_000_000;

    /// <summary>Round trips per latency case unless told.</summary>
    public const long DefaultRoundTrips = 20_000;

    private const long MinMessages = 10_000;

    /// <param name="settings">What to measure.</param>
    /// <param name="mqMaxMessageSize">The system's mq msgsize_max: the raw mq case sends one message per mq_send, so
    /// larger messages have no raw row (through the hub they are split). Null: no limit.</param>
    public static List<BenchCase> Plan(BenchSettings settings, long? mqMaxMessageSize = null)
    {
        var cases = new List<BenchCase>();
        foreach (int size in settings.MessageSizes)
        {
            foreach (int subscribers in settings.Subscribers)
            {
                foreach (TransportKind transport in settings.Backends)
                {
                    foreach ((ShmWake wake, int spin) in Variants(settings, transport))
                    {
                        foreach (BenchPath path in Paths(settings, subscribers))
                        {
                            if (path == BenchPath.Raw && transport == TransportKind.MessageQueue && size > mqMaxMessageSize)
                            {
                                continue;
                            }
                            int caseSpin = spin;
                            if (path == BenchPath.Raw && transport != TransportKind.SharedMemory)
                            {
                                // The raw stream mechanisms block in the kernel: one row, without spin, is their baseline.
                                if (spin != settings.Spins[0])
                                {
                                    continue;
                                }
                                caseSpin = 0;
                            }
                            if (settings.Throughput)
                            {
                                cases.Add(new BenchCase(transport, path, size, subscribers, BenchMode.Throughput,
                                    ThroughputMessages(settings, transport, path, size, subscribers), wake, caseSpin));
                            }
                            if (settings.Latency && subscribers == settings.Subscribers[0])
                            {
                                long trips = settings.RoundTrips ?? Math.Min(DefaultRoundTrips, settings.Iterations ?? DefaultRoundTrips);
                                cases.Add(new BenchCase(transport, path, size, 1, BenchMode.Latency, trips, wake, caseSpin));
                            }
                        }
                    }
                }
            }
        }
        return cases;
    }

    private static IEnumerable<(ShmWake Wake, int Spin)> Variants(BenchSettings settings, TransportKind transport)
    {
        IEnumerable<ShmWake> wakes = transport == TransportKind.SharedMemory ? settings.ShmWakes : [ShmWake.Futex];
        foreach (ShmWake wake in wakes)
        {
            foreach (int spin in settings.Spins)
            {
                yield return (wake, spin);
            }
        }
    }

    private static IEnumerable<BenchPath> Paths(BenchSettings settings, int subscribers)
    {
        if (settings.Hub)
        {
            yield return BenchPath.Hub;
        }
        if (settings.Raw && subscribers == 1)
        {
            yield return BenchPath.Raw; // the raw mechanisms are point to point
        }
    }

    /// <summary>
    /// The message count: --iterations, or 1,000,000 cut down so that the case stays under the budget at a
    /// cautious estimate of the transport's speed (a 64 KiB case of a million messages would take a minute).
    /// </summary>
    private static long ThroughputMessages(BenchSettings settings, TransportKind transport, BenchPath path, int size, int subscribers)
    {
        if (settings.Iterations is { } fixedCount)
        {
            return fixedCount;
        }
        (double messagesPerSecond, double bytesPerSecond) = transport switch
        {
            TransportKind.SharedMemory => (1.0e6, 1.0e9),
            TransportKind.Socket => (path == BenchPath.Raw ? 0.3e6 : 0.8e6, 0.8e9),
            TransportKind.MessageQueue => (0.25e6, 0.3e9),
            _ => (path == BenchPath.Raw ? 0.4e6 : 0.6e6, 0.6e9),
        };
        double seconds = Math.Max(DefaultMessages / messagesPerSecond, (double)DefaultMessages * size * subscribers / bytesPerSecond);
        double budget = settings.CaseBudget.TotalSeconds;
        return seconds <= budget ? DefaultMessages : Math.Max(MinMessages, (long)(DefaultMessages * budget / seconds));
    }
}
