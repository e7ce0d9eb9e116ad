using IpcCore.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcCore.Client;

/// <summary>How a <see cref="HubClient"/> finds and talks to the hub.</summary>
public sealed class HubClientOptions
{
    /// <summary>The hub directory; null resolves it like the hub does (<see cref="HubPaths.ResolveDirectory"/>).</summary>
    public string? Directory { get; set; }

    /// <summary>The data transport to ask for: <see cref="TransportKind.Socket"/> (default), <see cref="TransportKind.Fifo"/>, <see cref="TransportKind.MessageQueue"/>, <see cref="TransportKind.SharedMemory"/> or <see cref="TransportKind.Pipe"/>.</summary>
    public TransportKind Transport { get; set; } = TransportKind.Socket;

    /// <summary>The name the hub shows for this client (1 to 64 bytes of UTF-8, no control characters).</summary>
    public string ClientName { get; set; } = DefaultClientName();

    /// <summary>
    /// How long <see cref="HubClient.ConnectAsync"/> waits for a hub that is not up yet (no socket, or nobody
    /// listening on it), retrying with a short backoff. Zero tries once.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether a lost connection is re-established (and every subscription renewed) instead of closing the client.</summary>
    public bool Reconnect { get; set; } = true;

    /// <summary>How long to keep trying to reconnect before the client closes.</summary>
    public TimeSpan ReconnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the receive thread busy-polls before it sleeps in the kernel: on the shared-memory rings (zero:
    /// their short default spin) and on the socket (zero: no spin; FIFO, pipe and mqueue receives do not spin).
    /// A longer spin keeps the receive thread awake while messages flow, which saves a wake-up per message
    /// (~10-20 µs here) and cuts latency, at the cost of CPU while the stream pauses.
    /// </summary>
    public TimeSpan SpinWait { get; set; }

    /// <summary>Where the client logs connection events; null logs nothing.</summary>
    public ILogger? Logger { get; set; }

    /// <summary><c>&lt;process name&gt;-&lt;pid&gt;</c>, cut to the protocol's 64-byte limit.</summary>
    public static string DefaultClientName()
    {
        string process = Path.GetFileNameWithoutExtension(Environment.ProcessPath) ?? "client";
        return ClientNames.Sanitize($"{process}-{Environment.ProcessId}");
    }

    internal HubClientOptions Clone() => (HubClientOptions)MemberwiseClone();
}
