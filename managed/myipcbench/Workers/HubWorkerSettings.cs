using IpcCore.Protocol;
using MyIpcBench.Model;

namespace MyIpcBench.Workers;

/// <summary>The arguments of <c>myipcbench worker hub</c>.</summary>
/// <param name="Role">pub (the publisher; in latency mode it pings and times the pongs) or sub (a subscriber; in latency mode it echoes).</param>
/// <param name="Transport">The client's transport to the hub.</param>
/// <param name="Directory">The hub directory.</param>
/// <param name="Channel">The channel (latency mode: CHANNEL.ping and CHANNEL.pong).</param>
/// <param name="Mode">Throughput or latency.</param>
/// <param name="MessageSize">Payload bytes.</param>
/// <param name="Subscribers">The subscribers the publisher waits for after the warm-up.</param>
/// <param name="Count">Measured messages (round trips).</param>
/// <param name="WarmupNs">How long the publisher sends flagged warm-up messages first (not measured): they bring the JIT and the caches up.</param>
/// <param name="SpinMicroseconds">shm: how long the client's ring waits spin before sleeping (0: the default).</param>
/// <param name="ReportPath">Where the JSON report goes.</param>
/// <param name="ReadyPath">A subscriber creates it once subscribed.</param>
internal sealed record HubWorkerSettings(
    string Role,
    TransportKind Transport,
    string Directory,
    string Channel,
    BenchMode Mode,
    int MessageSize,
    int Subscribers,
    long Count,
    long WarmupNs,
    int SpinMicroseconds,
    string ReportPath,
    string? ReadyPath)
{
    public string PingChannel { get; } = Channel + ".ping";

    public string PongChannel { get; } = Channel + ".pong";

    /// <summary>Where subscribers say they have received the whole warm-up.</summary>
    public string SyncChannel { get; } = Channel + ".synced";
}
