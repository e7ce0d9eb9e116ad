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

/// <summary>
/// A subscription callback that also receives the descriptors a message carries. Called on the connection's
/// receive thread; the spans are only valid during the call. <paramref name="descriptors"/> is empty (and costs
/// nothing) for a message without any; the callback owns the ones it <see cref="ReceivedDescriptors.Take"/>s,
/// and those it does not take are closed when it returns.
/// </summary>
public delegate void HubDescriptorMessageHandler(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload, ReceivedDescriptors descriptors);

/// <summary>The descriptors of a message handed to a <see cref="HubDescriptorMessageHandler"/>.</summary>
public readonly struct ReceivedDescriptors : IEquatable<ReceivedDescriptors>
{
    private readonly Handoff? _handoff;

    internal ReceivedDescriptors(Handoff handoff) => _handoff = handoff;

    /// <summary>How many descriptors came (and are not taken yet).</summary>
    public int Count => _handoff?.Handles?.Length ?? 0;

    /// <summary>The message carried descriptors that did not reach this process (its descriptor table was full: EMFILE); null otherwise.</summary>
    public HubException? Error => _handoff?.Error;

    /// <summary>Descriptor <paramref name="index"/>, still owned by the client (closed after the callback unless taken).</summary>
    public SafeFdHandle this[int index] => (_handoff?.Handles ?? [])[index];

    /// <summary>Takes every descriptor: the caller owns them from now on and must dispose them.</summary>
    public SafeFdHandle[] Take()
    {
        if (_handoff is null)
        {
            return [];
        }
        SafeFdHandle[] handles = _handoff.Handles ?? [];
        _handoff.Handles = null;
        return handles;
    }

    public bool Equals(ReceivedDescriptors other) => ReferenceEquals(_handoff, other._handoff);

    public override bool Equals(object? obj) => obj is ReceivedDescriptors other && Equals(other);

    public override int GetHashCode() => _handoff?.GetHashCode() ?? 0;

    public static bool operator ==(ReceivedDescriptors left, ReceivedDescriptors right) => left.Equals(right);

    public static bool operator !=(ReceivedDescriptors left, ReceivedDescriptors right) => !left.Equals(right);

    /// <summary>What the client hands over, and closes afterwards unless taken.</summary>
    internal sealed class Handoff(SafeFdHandle[] handles, HubException? error)
    {
        public SafeFdHandle[]? Handles { get; set; } = handles;

        public HubException? Error { get; } = error;

        public void DisposeRest()
        {
            SafeFdHandle[]? rest = Handles;
            Handles = null;
            foreach (SafeFdHandle handle in rest ?? [])
            {
                handle.Dispose();
            }
        }
    }
}
