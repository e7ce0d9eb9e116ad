using Microsoft.Extensions.Logging;

namespace IpcCore.Client;

/// <summary>The client's log messages (source-generated, no allocation when the level is off).</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Connected to the hub at {SocketPath} as client {ClientId} (hub pid {HubPid}, transport {Transport}, max message size {MaxMessageSize})")]
    public static partial void Connected(ILogger logger, string socketPath, ulong clientId, int hubPid, IpcCore.Protocol.TransportKind transport, int maxMessageSize);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Connection to the hub lost: {Reason}; reconnecting for up to {Seconds} s")]
    public static partial void Reconnecting(ILogger logger, string reason, double seconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Reconnected to the hub at {SocketPath} as client {ClientId} (hub pid {HubPid}); subscribing again to {Patterns} pattern(s)")]
    public static partial void Reconnected(ILogger logger, string socketPath, ulong clientId, int hubPid, int patterns);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Client closed: {Reason}")]
    public static partial void Closed(ILogger logger, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Client closed (disposed)")]
    public static partial void Disposed(ILogger logger);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "The hub reported an error nobody awaits: {Error}")]
    public static partial void UnawaitedError(ILogger logger, string error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "A callback of the hub client threw")]
    public static partial void CallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "The receive thread failed")]
    public static partial void ReceiveThreadFailed(ILogger logger, Exception exception);
}
