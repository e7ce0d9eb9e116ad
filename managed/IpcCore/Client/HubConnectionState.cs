namespace IpcCore.Client;

/// <summary>The connection states a <see cref="HubClient"/> reports (<see cref="HubClient.StateChanged"/>).</summary>
public enum HubConnectionState
{
    /// <summary>Connected and handshaken.</summary>
    Connected,

    /// <summary>The connection was lost; the client is trying to connect again.</summary>
    Reconnecting,

    /// <summary>
    /// Reported once, after a reconnect, when the hub has acknowledged every renewed subscription;
    /// <see cref="HubClient.State"/> is <see cref="Connected"/> again from then on.
    /// </summary>
    Reconnected,

    /// <summary>The client is closed: disposed, or the connection was lost for good.</summary>
    Closed,
}

/// <summary>A change of <see cref="HubClient.State"/>.</summary>
public sealed class HubConnectionStateChangedEventArgs : EventArgs
{
    public HubConnectionStateChangedEventArgs(HubConnectionState state, Exception? error, int resubscribedPatterns)
    {
        State = state;
        Error = error;
        ResubscribedPatterns = resubscribedPatterns;
    }

    /// <summary>The new state.</summary>
    public HubConnectionState State { get; }

    /// <summary>
    /// Why: for <see cref="HubConnectionState.Reconnecting"/> what ended the connection; for
    /// <see cref="HubConnectionState.Closed"/> a <see cref="HubConnectionException"/>, or null after a dispose.
    /// </summary>
    public Exception? Error { get; }

    /// <summary>For <see cref="HubConnectionState.Reconnected"/>: the patterns subscribed again.</summary>
    public int ResubscribedPatterns { get; }
}

/// <summary>A jump in a channel's sequence numbers: messages the hub did not deliver to this client.</summary>
public sealed class HubMessagesMissedEventArgs : EventArgs
{
    public HubMessagesMissedEventArgs(string channel, ulong firstMissed, ulong lastMissed)
    {
        Channel = channel;
        FirstMissed = firstMissed;
        LastMissed = lastMissed;
    }

    /// <summary>The channel.</summary>
    public string Channel { get; }

    /// <summary>The first sequence number not received.</summary>
    public ulong FirstMissed { get; }

    /// <summary>The last sequence number not received.</summary>
    public ulong LastMissed { get; }

    /// <summary>How many messages were missed.</summary>
    public long Count => (long)(LastMissed - FirstMissed + 1);
}

/// <summary>An error nobody awaits: a refused fire-and-forget publish, a failed resubscribe, a handler that threw.</summary>
public sealed class HubErrorEventArgs : EventArgs
{
    public HubErrorEventArgs(Exception error, ulong requestId)
    {
        Error = error;
        RequestId = requestId;
    }

    /// <summary>What went wrong (a <see cref="HubException"/> for an Error frame from the hub).</summary>
    public Exception Error { get; }

    /// <summary>The request the hub's error is about, or 0.</summary>
    public ulong RequestId { get; }
}
