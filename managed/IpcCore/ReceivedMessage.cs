namespace IpcCore;

/// <summary>
/// What <see cref="UnixSocket.ReceiveWithDescriptors"/> got: the payload length and the descriptors that
/// came with it. Every descriptor is already wrapped in a <see cref="SafeFdHandle"/> owned by the caller,
/// so none can leak as a bare number: keep the ones you use (e.g. <see cref="PipeEnd.FromHandle"/>) and
/// dispose the rest, or call <see cref="CloseDescriptors"/>. An unclaimed handle is closed by its finalizer.
/// </summary>
public readonly struct ReceivedMessage : IEquatable<ReceivedMessage>
{
    private readonly SafeFdHandle[]? _descriptors;

    internal ReceivedMessage(int length, SafeFdHandle[] descriptors)
    {
        Length = length;
        _descriptors = descriptors;
    }

    /// <summary>The payload bytes written to the buffer. 0 with no descriptors means end of stream.</summary>
    public int Length { get; }

    /// <summary>The received descriptors, close-on-exec, in the order they were sent (empty when none came).</summary>
    public IReadOnlyList<SafeFdHandle> Descriptors => _descriptors ?? [];

    /// <summary>Whether the peer closed the connection (nothing was received).</summary>
    public bool IsEndOfStream => Length == 0 && (_descriptors is null || _descriptors.Length == 0);

    /// <summary>Closes every received descriptor, e.g. when the message is rejected.</summary>
    public void CloseDescriptors()
    {
        foreach (SafeFdHandle handle in _descriptors ?? [])
        {
            handle.Dispose();
        }
    }

    public bool Equals(ReceivedMessage other) => Length == other.Length && ReferenceEquals(_descriptors, other._descriptors);

    public override bool Equals(object? obj) => obj is ReceivedMessage other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Length, _descriptors);

    public static bool operator ==(ReceivedMessage left, ReceivedMessage right) => left.Equals(right);

    public static bool operator !=(ReceivedMessage left, ReceivedMessage right) => !left.Equals(right);

    public override string ToString() => $"{Length} bytes, {Descriptors.Count} descriptors";
}
