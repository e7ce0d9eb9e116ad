namespace MyIpcBench.Raw;

/// <summary>The sending end of one direction of a raw mechanism: one write, send or ring record per message.</summary>
internal abstract class MessageSink
{
    /// <summary>Sends one message, waiting for room as the mechanism does. Throws when the peer is gone.</summary>
    public abstract void Send(ReadOnlySpan<byte> message);
}
