using IpcCore.Protocol;

namespace IpcCore.Client;

/// <summary>
/// The hub refused a request (an Error frame), or the client refused it before sending because the hub
/// would have (e.g. a message over the hub's maximum message size). The connection stays usable unless the
/// error was fatal. The message names the request, e.g.
/// <c>publish to 'weather' refused by the hub: TooManyChannels: the hub has 4096 channels</c>.
/// </summary>
public class HubException : Exception
{
    public HubException()
        : this(ProtocolErrorCode.InternalError, "unknown error", "unknown error")
    {
    }

    public HubException(string message)
        : this(ProtocolErrorCode.InternalError, message, message)
    {
    }

    public HubException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ProtocolErrorCode.InternalError;
        Reason = message;
    }

    /// <summary>Creates the exception with the protocol <paramref name="code"/>, the bare <paramref name="reason"/> and the full message.</summary>
    public HubException(ProtocolErrorCode code, string reason, string message)
        : base(message)
    {
        Code = code;
        Reason = reason;
    }

    /// <summary>The protocol error code.</summary>
    public ProtocolErrorCode Code { get; }

    /// <summary>The reason alone (the hub's text, or the client's), without the request it is about.</summary>
    public string Reason { get; }

    /// <summary>Whether the error ended the connection (an Error frame flagged Fatal).</summary>
    public bool IsFatal { get; init; }

    /// <summary><c>Code: reason</c>, e.g. <c>PayloadTooLarge: the message is 2000000 bytes; ...</c>.</summary>
    public string Describe() => $"{Code}: {Reason}";
}

/// <summary>
/// The hub cannot be reached, or the connection to it was lost. Messages:
/// <c>cannot connect to the hub at /dir/hub.sock: ENOENT (No such file or directory); waited 5 s</c>,
/// <c>connection to the hub lost: the hub closed the connection</c>.
/// </summary>
public sealed class HubConnectionException : Exception
{
    public HubConnectionException()
    {
    }

    public HubConnectionException(string message)
        : base(message)
    {
    }

    public HubConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
