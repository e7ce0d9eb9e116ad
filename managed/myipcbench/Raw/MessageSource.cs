namespace MyIpcBench.Raw;

/// <summary>The receiving end of one direction of a raw mechanism: whole messages, one at a time.</summary>
internal abstract class MessageSource
{
    /// <summary>
    /// Waits for the next whole message and returns it in place: valid until the next call. Every message
    /// is exactly the case's size. Throws when the peer is gone or nothing arrives for too long.
    /// </summary>
    public abstract ReadOnlySpan<byte> Next();
}
