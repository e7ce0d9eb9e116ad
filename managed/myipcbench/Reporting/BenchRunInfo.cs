namespace MyIpcBench.Reporting;

/// <summary>The context of a run that the reports print beside the figures.</summary>
/// <param name="Machine">What it ran on.</param>
/// <param name="Settings">What was asked for.</param>
/// <param name="StartedAt">When the first case started.</param>
/// <param name="Duration">Wall time of the whole run.</param>
internal sealed record BenchRunInfo(MachineFacts Machine, BenchSettings Settings, DateTimeOffset StartedAt, TimeSpan Duration)
{
    /// <summary>How the latency columns were measured (printed under the tables, so nobody compares apples with pears).</summary>
    public const string LatencyMethod =
        "Latency: one-way = receive time minus the CLOCK_MONOTONIC stamp the sender wrote into the payload, " +
        "one message in flight (ping-pong); RTT/2 = round trip of the same ping-pong, halved.";
}
