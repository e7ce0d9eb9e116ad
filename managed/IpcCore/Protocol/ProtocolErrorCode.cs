namespace IpcCore.Protocol;

/// <summary>The code in an Error frame's payload. Values are part of the wire format.</summary>
public enum ProtocolErrorCode : ushort
{
    /// <summary>The frame does not start with the magic bytes "IPCH".</summary>
    BadMagic = 1,

    /// <summary>The header's version is not one this hub speaks.</summary>
    UnsupportedVersion = 2,

    /// <summary>The type byte is not a known frame type, or not one the receiver accepts.</summary>
    UnknownType = 3,

    /// <summary>Flags or reserved bits that must be zero are set.</summary>
    InvalidFlags = 4,

    /// <summary>The channel field is longer than 255 bytes.</summary>
    ChannelTooLong = 5,

    /// <summary>The payload is longer than the limit for this frame type (the maximum message size for Publish).</summary>
    PayloadTooLarge = 6,

    /// <summary>The channel name or pattern is not valid (docs/PROTOCOL.md, Channels).</summary>
    InvalidChannel = 7,

    /// <summary>A frame's payload does not have the layout its type requires.</summary>
    InvalidPayload = 8,

    /// <summary>The first frame was not Hello, or Hello came twice.</summary>
    HandshakeRequired = 9,

    /// <summary>The requested transport is not available on this hub.</summary>
    UnsupportedTransport = 10,

    /// <summary>The hub has as many clients as it allows.</summary>
    TooManyClients = 11,

    /// <summary>The hub has as many channels as it allows.</summary>
    TooManyChannels = 12,

    /// <summary>The client holds as many subscriptions as it may.</summary>
    TooManySubscriptions = 13,

    /// <summary>Unsubscribe named a pattern the client is not subscribed to.</summary>
    NotSubscribed = 14,

    /// <summary>The subscriber's outbound queue stayed full past the deadline.</summary>
    SlowConsumer = 15,

    /// <summary>The hub is shutting down.</summary>
    ShuttingDown = 16,

    /// <summary>The connection ended in the middle of a frame.</summary>
    TruncatedFrame = 17,

    /// <summary>Anything else; the reason text says what.</summary>
    InternalError = 18,

    /// <summary>
    /// A Publish carries more descriptors than the hub allows per message (--max-fds-per-message), or the
    /// client has more descriptors in the hub's hands than it may (--max-fds-in-flight).
    /// </summary>
    TooManyDescriptors = 19,

    /// <summary>
    /// A Publish's descriptors did not arrive whole (the receiver's descriptor table was full, EMFILE, or
    /// they were missing); the message was not routed.
    /// </summary>
    DescriptorsLost = 20,

    /// <summary>A Publish carries descriptors over a transport that cannot carry them (only socket and pipe can).</summary>
    DescriptorsNotSupported = 21,
}
