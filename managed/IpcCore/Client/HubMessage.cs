namespace IpcCore.Client;

/// <summary>A message received on a subscription enumerated with <c>await foreach</c>.</summary>
/// <param name="Channel">The channel it was published to (not the pattern).</param>
/// <param name="Sequence">Its sequence number in the channel (1, 2, 3, ...; restarts when the hub does).</param>
/// <param name="Payload">The message bytes (a copy owned by this object).</param>
public sealed record HubMessage(string Channel, ulong Sequence, ReadOnlyMemory<byte> Payload);

/// <summary>
/// A subscription callback, called on the connection's receive thread for every matching message. The spans
/// are only valid during the call (copy what you keep); the call allocates nothing. Do not block for long:
/// no further message, and no acknowledgement, is read from the hub until the handler returns.
/// </summary>
/// <param name="channel">The channel name's UTF-8 bytes.</param>
/// <param name="sequence">The message's sequence number in the channel.</param>
/// <param name="payload">The message bytes.</param>
public delegate void HubMessageHandler(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload);
