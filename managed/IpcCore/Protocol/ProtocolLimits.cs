namespace IpcCore.Protocol;

/// <summary>
/// The sizes a frame reader accepts. A reader checks a claimed length against these before it reserves
/// any memory for it, so a client cannot make the hub allocate what it merely announces.
/// </summary>
public readonly record struct ProtocolLimits(int MaxMessageSize)
{
    /// <summary>The default maximum message (Publish/Data payload) size: 1 MiB.</summary>
    public const int DefaultMaxMessageSize = 1024 * 1024;

    /// <summary>The largest payload of a control frame (Hello, Welcome, Ack, Error, Goodbye, Ping, Pong).</summary>
    public const int MaxControlPayload = 4096;

    /// <summary>The limits with the default message size.</summary>
    public static ProtocolLimits Default => new(DefaultMaxMessageSize);

    /// <summary>The largest payload a frame of <paramref name="type"/> may carry.</summary>
    public int MaxPayloadFor(FrameType type)
        => type is FrameType.Publish or FrameType.Data ? MaxMessageSize : MaxControlPayload;

    /// <summary>The largest whole frame (header, channel, payload) any frame type may have.</summary>
    public int MaxFrameLength => FrameHeader.Size + FrameHeader.MaxChannelLength + Math.Max(MaxMessageSize, MaxControlPayload);
}
