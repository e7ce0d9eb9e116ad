namespace IpcCore.Protocol;

/// <summary>A parsed frame: its header and views of its channel and payload bytes (valid while the buffer is).</summary>
public readonly ref struct Frame
{
    public Frame(FrameHeader header, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Channel = channel;
        Payload = payload;
    }

    public FrameHeader Header { get; }

    public FrameType Type => Header.Type;

    public FrameFlags Flags => Header.Flags;

    public ulong Sequence => Header.Sequence;

    /// <summary>The descriptors attached to a Publish or Data frame (they travel beside the bytes).</summary>
    public int DescriptorCount => Header.DescriptorCount;

    /// <summary>The message's priority (Publish, Data; 0 otherwise).</summary>
    public ushort Priority => Header.Priority;

    public ReadOnlySpan<byte> Channel { get; }

    public ReadOnlySpan<byte> Payload { get; }
}
