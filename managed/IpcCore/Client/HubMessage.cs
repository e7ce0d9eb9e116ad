namespace IpcCore.Client;

/// <summary>
/// A message received on a subscription enumerated with <c>await foreach</c>. When it carried descriptors the
/// receiver owns them: dispose the message (or each handle taken from <see cref="Descriptors"/>) when done.
/// </summary>
/// <param name="Channel">The channel it was published to (not the pattern).</param>
/// <param name="Sequence">Its sequence number in the channel (1, 2, 3, ...; restarts when the hub does).</param>
/// <param name="Payload">The message bytes (a copy owned by this object).</param>
public sealed record HubMessage(string Channel, ulong Sequence, ReadOnlyMemory<byte> Payload) : IDisposable
{
    /// <summary>
    /// The descriptors the publisher attached, received as new descriptors of the same open files (close-on-exec),
    /// in the order they were attached; empty when none came. Owned by the receiver.
    /// </summary>
    public IReadOnlyList<SafeFdHandle> Descriptors { get; init; } = [];

    /// <summary>
    /// Set when the message carried descriptors that did not reach this subscription (this process's descriptor
    /// table was full: EMFILE); <see cref="Descriptors"/> is then empty. Null otherwise.
    /// </summary>
    public HubException? DescriptorError { get; init; }

    /// <summary>Closes every descriptor of the message.</summary>
    public void Dispose()
    {
        foreach (SafeFdHandle handle in Descriptors)
        {
            handle.Dispose();
        }
    }
}

/// <summary>
/// A subscription callback, called on the connection's receive thread for every matching message. The spans
/// are only valid during the call (copy what you keep); the call allocates nothing. Do not block for long:
/// no further message, and no acknowledgement, is read from the hub until the handler returns.
/// </summary>
/// <param name="channel">The channel name's UTF-8 bytes.</param>
/// <param name="sequence">The message's sequence number in the channel.</param>
/// <param name="payload">The message bytes.</param>
public delegate void HubMessageHandler(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload);
