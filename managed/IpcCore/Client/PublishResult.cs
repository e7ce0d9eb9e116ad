namespace IpcCore.Client;

/// <summary>The hub's answer to a publish.</summary>
/// <param name="Delivered">The subscribers (clients) the message was queued for.</param>
/// <param name="NotDelivered">
/// The subscribers that did not get it: the <c>drop</c> slow-subscriber policy, or, for a message with
/// descriptors, a transport that cannot carry them (<paramref name="CannotCarryDescriptors"/> of them).
/// </param>
/// <param name="ChannelSequence">The sequence number the message got in its channel.</param>
/// <param name="CannotCarryDescriptors">Of <paramref name="NotDelivered"/>, the subscribers skipped because their transport cannot carry descriptors (FIFO, message queue, shared memory).</param>
public readonly record struct PublishResult(int Delivered, int NotDelivered, ulong ChannelSequence, int CannotCarryDescriptors = 0);
