using IpcCore.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcCore.Hub;

/// <summary>
/// Every log line of the hub, source-generated with fixed event ids (1xx lifecycle, 2xx connections,
/// 3xx protocol, 4xx flow control, 9xx failures). Nothing is logged per message above Trace, and the
/// generated methods check <see cref="ILogger.IsEnabled"/> before they format anything.
/// </summary>
internal static partial class HubLog
{
    // --- lifecycle -------------------------------------------------------------------------------

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "hub (pid {Pid}) listening on {SocketPath}: max message size {MaxMessageSize} bytes, max clients {MaxClients}, queue limits {QueueMessages} messages / {QueueBytes} bytes, slow-consumer policy {Policy}")]
    public static partial void Listening(ILogger logger, int pid, string socketPath, int maxMessageSize, int maxClients,
        int queueMessages, long queueBytes, SlowConsumerPolicy policy);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "created the hub directory {Directory} (mode {Mode})")]
    public static partial void CreatedDirectory(ILogger logger, string directory, string mode);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "replaced the stale socket {SocketPath} left by a hub that is no longer running")]
    public static partial void StaleSocketReplaced(ILogger logger, string socketPath);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "the lock file {LockPath} was left by a hub that is no longer running (pid {Pid}); taking it over")]
    public static partial void StaleLock(ILogger logger, string lockPath, string pid);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "shutting down: saying goodbye to {Clients} clients, flushing for at most {TimeoutMs} ms")]
    public static partial void ShuttingDown(ILogger logger, int clients, long timeoutMs);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "shutdown timeout: {Clients} clients still had {Bytes} bytes queued; closing them anyway")]
    public static partial void ShutdownTimedOut(ILogger logger, int clients, long bytes);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "hub stopped; removed {Removed}")]
    public static partial void Stopped(ILogger logger, string removed);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "could not remove {Path}: {Reason}")]
    public static partial void CleanupFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 108, Level = LogLevel.Debug, Message = "stop requested")]
    public static partial void StopRequested(ILogger logger);

    // --- connections -----------------------------------------------------------------------------

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "connection {Id} accepted (pid {Pid}, uid {Uid}, gid {Gid})")]
    public static partial void Accepted(ILogger logger, ulong id, int pid, uint uid, uint gid);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "client {Id} '{Name}' connected (pid {Pid}, uid {Uid}, gid {Gid}) via {Transport}")]
    public static partial void ClientConnected(ILogger logger, ulong id, string name, int pid, uint uid, uint gid, string transport);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information,
        Message = "client {Id} '{Name}' disconnected: {Reason} (published {Published}, delivered to it {Delivered}, dropped for it {Dropped}, in {BytesIn} bytes, out {BytesOut} bytes)")]
    public static partial void ClientDisconnected(ILogger logger, ulong id, string name, string reason, long published, long delivered,
        long dropped, long bytesIn, long bytesOut);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "refused a connection from pid {Pid}: {Count} connections are open (limit {Limit} clients plus {Slack} handshaking)")]
    public static partial void ConnectionRefused(ILogger logger, int pid, int count, int limit, int slack);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "could not read the peer credentials of connection {Id}: {Reason}")]
    public static partial void PeerCredentialsFailed(ILogger logger, ulong id, string reason);

    // --- protocol --------------------------------------------------------------------------------

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "client {Id} '{Name}': {Code}: {Reason}; disconnecting it")]
    public static partial void ProtocolViolation(ILogger logger, ulong id, string name, ProtocolErrorCode code, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "client {Id} '{Name}': request {RequestId} refused with {Code}: {Reason}")]
    public static partial void RequestRefused(ILogger logger, ulong id, string name, ulong requestId, ProtocolErrorCode code, string reason);

    [LoggerMessage(EventId = 307, Level = LogLevel.Warning, Message = "client {Id} '{Name}': a message's descriptors could not be sent ahead on its control socket ({Reason}); it does not get the message")]
    public static partial void DescriptorsNotSent(ILogger logger, ulong id, string name, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "client {Id} '{Name}' closed the connection inside a frame ({Have} of {Needed} bytes received)")]
    public static partial void TruncatedFrame(ILogger logger, ulong id, string name, long have, long needed);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "client {Id} '{Name}' sent Error {Code}{Fatal}: {Reason}")]
    public static partial void ClientSentError(ILogger logger, ulong id, string name, ProtocolErrorCode code, string fatal, string reason);

    [LoggerMessage(EventId = 304, Level = LogLevel.Debug, Message = "client {Id} '{Name}' subscribed to '{Pattern}' ({Count} subscriptions)")]
    public static partial void Subscribed(ILogger logger, ulong id, string name, string pattern, int count);

    [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "client {Id} '{Name}' unsubscribed from '{Pattern}' ({Count} subscriptions)")]
    public static partial void Unsubscribed(ILogger logger, ulong id, string name, string pattern, int count);

    [LoggerMessage(EventId = 306, Level = LogLevel.Trace, Message = "client {Id}: {Type} frame, {Length} bytes, sequence {Sequence}")]
    public static partial void FrameReceived(ILogger logger, ulong id, FrameType type, int length, ulong sequence);

    // --- flow control ----------------------------------------------------------------------------

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "client {Id} '{Name}' is a slow consumer: {Reason}; disconnecting it")]
    public static partial void SlowConsumer(ILogger logger, ulong id, string name, string reason);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "client {Id} '{Name}': {Dropped} messages dropped for it so far (its outbound queue was full)")]
    public static partial void Dropped(ILogger logger, ulong id, string name, long dropped);

    [LoggerMessage(EventId = 402, Level = LogLevel.Trace, Message = "client {Id} stalled: a subscriber of the channel has no room")]
    public static partial void PublisherStalled(ILogger logger, ulong id);

    [LoggerMessage(EventId = 403, Level = LogLevel.Trace, Message = "client {Id} resumed")]
    public static partial void PublisherResumed(ILogger logger, ulong id);

    // --- failures --------------------------------------------------------------------------------

    [LoggerMessage(EventId = 900, Level = LogLevel.Warning, Message = "client {Id} '{Name}': {Reason}; disconnecting it")]
    public static partial void ConnectionFailed(ILogger logger, ulong id, string name, string reason, Exception? exception);

    [LoggerMessage(EventId = 901, Level = LogLevel.Error, Message = "accepting a connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 902, Level = LogLevel.Critical, Message = "the event loop failed: {Reason}")]
    public static partial void LoopFailed(ILogger logger, string reason, Exception? exception);
}
