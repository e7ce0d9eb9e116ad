using System.Globalization;
using IpcCore.Protocol;

namespace IpcCore.Hub;

/// <summary>What the hub does with a Data frame that does not fit a subscriber's outbound queue.</summary>
public enum SlowConsumerPolicy
{
    /// <summary>
    /// Stall the publisher (and every other publisher to the channel, in arrival order) until the queue has
    /// room; disconnect the subscriber with SlowConsumer when its queue stays full past the deadline.
    /// </summary>
    Backpressure,

    /// <summary>Skip that subscriber for this message (it sees a gap in the channel's sequence numbers).</summary>
    Drop,

    /// <summary>Like <see cref="Backpressure"/>, without a deadline.</summary>
    Block,
}

/// <summary>Everything a hub is configured with; the defaults are the documented ones.</summary>
public sealed record HubOptions
{
    /// <summary>The smallest <see cref="MaxMessageSize"/> accepted.</summary>
    public const int MinMaxMessageSize = 1;

    /// <summary>The hub directory (null: <see cref="HubPaths.ResolveDirectory"/> of nothing: $IPCHUB_DIR, ...).</summary>
    public string? Directory { get; init; }

    /// <summary>Directory 0750 and socket 0660 instead of 0700 and 0600.</summary>
    public bool GroupAccess { get; init; }

    /// <summary>The largest Publish/Data payload in bytes.</summary>
    public int MaxMessageSize { get; init; } = ProtocolLimits.DefaultMaxMessageSize;

    /// <summary>The most clients that may have completed the handshake at once.</summary>
    public int MaxClients { get; init; } = 1024;

    /// <summary>The most channels (distinct published names) the hub tracks.</summary>
    public int MaxChannels { get; init; } = 65536;

    /// <summary>The most subscriptions one client may hold.</summary>
    public int MaxSubscriptionsPerClient { get; init; } = 1024;

    /// <summary>A client's outbound queue limit in frames.</summary>
    public int QueueMessages { get; init; } = 65536;

    /// <summary>The default <see cref="QueueBytes"/>: 2 MiB (or two maximum-size frames, if more).</summary>
    public const long DefaultQueueBytes = 2L * 1024 * 1024;

    /// <summary>
    /// A client's outbound queue limit in bytes (at least one maximum-size Data frame). Small on purpose: a
    /// stream whose subscriber is the slower side keeps the queue full, and a queue beyond the caches costs
    /// every message a trip to memory (measured here: 1 KiB over shm, 2.65 GB/s with 2 MiB, 0.6 GB/s with
    /// 64 MiB). The transport adds its own buffer (the ring, the socket or pipe buffer) on top.
    /// </summary>
    public long QueueBytes { get; init; } = DefaultQueueBytes;

    /// <summary><see cref="DefaultQueueBytes"/>, or two maximum-size Data frames when that is more.</summary>
    public static long DefaultQueueBytesFor(int maxMessageSize)
        => Math.Max(DefaultQueueBytes, 2 * (FrameHeader.Size + (long)FrameHeader.MaxChannelLength + maxMessageSize));

    /// <summary>What happens when a subscriber's queue is full.</summary>
    public SlowConsumerPolicy SlowPolicy { get; init; } = SlowConsumerPolicy.Backpressure;

    /// <summary>How long a subscriber's queue may stay full under <see cref="SlowConsumerPolicy.Backpressure"/>.</summary>
    public TimeSpan SlowDeadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The data bytes of each shared-memory ring (two per shm client): a power of two, 4 KiB .. 1 GiB.</summary>
    public long ShmRingSize { get; init; } = 1L << 20;

    /// <summary>How the shared-memory rings sleep and wake (futex words, or named POSIX semaphores) (<c>--shm-wake</c>).</summary>
    public IpcCore.Rings.RingWakeMode SharedMemoryWake { get; init; } = IpcCore.Rings.RingWakeMode.Futex;

    /// <summary>
    /// How long the event loop watches the shared-memory rings before it sleeps (<c>--spin-us</c>; zero: it
    /// sleeps at once). Spinning keeps the hub awake through a stream's short pauses, saving a wake-up per
    /// message (lower latency), at the cost of up to this much CPU after each burst.
    /// </summary>
    public TimeSpan SpinWait { get; init; }

    /// <summary>How long shutdown waits for queued output to drain.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a new connection may take to send Hello before it is refused (so idle connects cannot hold slots).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The transports offered (<c>--backends</c>); null or empty offers all five. A client asking for another gets UnsupportedTransport.</summary>
    public IReadOnlyList<TransportKind>? Backends { get; init; }

    /// <summary>Whether the hub keeps the inbox FIFO <c>&lt;dir&gt;/publish.fifo</c> for shell scripts (<c>--no-inbox</c> turns it off).</summary>
    public bool Inbox { get; init; } = true;

    /// <summary>Child processes the hub runs, connected by pipes (<c>--child</c>, <c>--child-sub</c>).</summary>
    public IReadOnlyList<HubChild> Children { get; init; } = [];

    /// <summary>The depth of each per-client message queue (<c>--mq-depth</c>; the unprivileged default limit is 10).</summary>
    public int MessageQueueDepth { get; init; } = 10;

    /// <summary>The message size of each per-client message queue (<c>--mq-message-size</c>; the unprivileged default limit is 8192). Larger frames are split.</summary>
    public int MessageQueueMessageSize { get; init; } = 8192;

    /// <summary>The most descriptors one message may carry (socket and pipe clients; 1..253, SCM_MAX_FD).</summary>
    public int MaxDescriptorsPerMessage { get; init; } = 16;

    /// <summary>
    /// The most descriptors in the hub's hands for one client: queued for it and not yet sent (a message that
    /// would pass it waits, or is dropped, like one that does not fit the queue), or received from it and not
    /// yet claimed by a message (more is a protocol error).
    /// </summary>
    public int MaxDescriptorsInFlight { get; init; } = 256;

    /// <summary>The largest frame a client can be sent: a maximum-size Data frame with the longest channel.</summary>
    public long MaxDataFrameLength => FrameHeader.Size + (long)FrameHeader.MaxChannelLength + MaxMessageSize;

    /// <summary>
    /// The first problem with these options, naming the command-line option (e.g.
    /// <c>--queue-bytes must be at least 1049879 (one maximum-size frame)</c>), or null when they are valid.
    /// </summary>
    public string? Validate()
    {
        // A frame length must fit an int everywhere (FrameReader, buffers).
        long maxMessage = int.MaxValue - FrameHeader.Size - FrameHeader.MaxChannelLength;
        if (MaxMessageSize < MinMaxMessageSize || MaxMessageSize > maxMessage)
        {
            return Invariant($"--max-message-size must be between {MinMaxMessageSize} and {maxMessage} bytes (got {MaxMessageSize})");
        }
        if (MaxClients < 1)
        {
            return Invariant($"--max-clients must be at least 1 (got {MaxClients})");
        }
        if (MaxChannels < 1)
        {
            return Invariant($"--max-channels must be at least 1 (got {MaxChannels})");
        }
        if (MaxSubscriptionsPerClient < 1)
        {
            return Invariant($"--max-subscriptions must be at least 1 (got {MaxSubscriptionsPerClient})");
        }
        if (QueueMessages < 1)
        {
            return Invariant($"--queue-messages must be at least 1 (got {QueueMessages})");
        }
        if (QueueBytes < MaxDataFrameLength)
        {
            return Invariant($"--queue-bytes must be at least {MaxDataFrameLength} (one maximum-size frame: 24-byte header, 255-byte channel, {MaxMessageSize}-byte message); got {QueueBytes}");
        }
        if (QueueBytes > int.MaxValue)
        {
            return Invariant($"--queue-bytes must be at most {int.MaxValue} (got {QueueBytes})");
        }
        if (!Enum.IsDefined(SharedMemoryWake))
        {
            return Invariant($"--shm-wake must be futex or semaphore (got {SharedMemoryWake})");
        }
        if (!Enum.IsDefined(SlowPolicy))
        {
            return Invariant($"--slow-policy must be backpressure, drop or block (got {SlowPolicy})");
        }
        if (SlowDeadline <= TimeSpan.Zero || SlowDeadline > TimeSpan.FromDays(1))
        {
            return Invariant($"--slow-deadline must be more than 0 and at most 86400 seconds (got {SlowDeadline.TotalSeconds})");
        }
        if (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout > TimeSpan.FromHours(1))
        {
            return Invariant($"--shutdown-timeout must be between 0 and 3600 seconds (got {ShutdownTimeout.TotalSeconds})");
        }
        if (ShmRingSize < 4096 || ShmRingSize > (1L << 30) || (ShmRingSize & (ShmRingSize - 1)) != 0)
        {
            return Invariant($"--shm-ring-size must be a power of two from 4096 to 1073741824 bytes (got {ShmRingSize})");
        }
        if (MessageQueueDepth < 1 || MessageQueueDepth > 65536)
        {
            return Invariant($"--mq-depth must be between 1 and 65536 (got {MessageQueueDepth})");
        }
        if (MessageQueueMessageSize < 64 || MessageQueueMessageSize > 16 * 1024 * 1024)
        {
            return Invariant($"--mq-message-size must be between 64 and 16777216 bytes (got {MessageQueueMessageSize})");
        }
        foreach (HubChild child in Children ?? [])
        {
            string? problem = child.Validate();
            if (problem is not null)
            {
                return problem;
            }
        }
        if (MaxDescriptorsPerMessage < 1 || MaxDescriptorsPerMessage > UnixSocket.MaxDescriptorsPerMessage)
        {
            return Invariant($"--max-fds-per-message must be between 1 and {UnixSocket.MaxDescriptorsPerMessage} (got {MaxDescriptorsPerMessage})");
        }
        if (MaxDescriptorsInFlight < MaxDescriptorsPerMessage || MaxDescriptorsInFlight > 1_000_000)
        {
            return Invariant($"--max-fds-in-flight must be between --max-fds-per-message ({MaxDescriptorsPerMessage}) and 1000000 (got {MaxDescriptorsInFlight})");
        }
        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromHours(1))
        {
            return Invariant($"--handshake-timeout must be more than 0 and at most 3600 seconds (got {HandshakeTimeout.TotalSeconds})");
        }
        return null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
