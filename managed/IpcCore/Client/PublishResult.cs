namespace IpcCore.Client;

/// <summary>The hub's answer to a publish.</summary>
/// <param name="Delivered">The subscribers (clients) the message was queued for.</param>
/// <param name="NotDelivered">The subscribers that did not get it (the <c>drop</c> slow-subscriber policy).</param>
/// <param name="ChannelSequence">The sequence number the message got in its channel.</param>
public readonly record struct PublishResult(int Delivered, int NotDelivered, ulong ChannelSequence);
