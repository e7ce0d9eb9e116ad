namespace IpcCore;

/// <summary>The state of an open message queue (mq_getattr(3)).</summary>
/// <param name="MaxMessages">The queue depth: how many messages it holds before a send blocks.</param>
/// <param name="MaxMessageSize">The largest message in bytes; receive buffers must be at least this long.</param>
/// <param name="CurrentMessages">The messages queued right now (already stale when read).</param>
/// <param name="NonBlocking">Whether this descriptor has O_NONBLOCK (sends and receives fail with EAGAIN instead of waiting).</param>
public readonly record struct MessageQueueAttributes(long MaxMessages, long MaxMessageSize, long CurrentMessages, bool NonBlocking);
