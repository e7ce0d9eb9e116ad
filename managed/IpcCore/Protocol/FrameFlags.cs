namespace IpcCore.Protocol;

/// <summary>The flags field of a frame. Bits not defined for a frame type must be zero.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "The header field is called flags (docs/PROTOCOL.md).")]
public enum FrameFlags : ushort
{
    None = 0,

    /// <summary>On Publish: do not send an Ack (fire and forget). Errors are still reported.</summary>
    NoAck = 0x0001,

    /// <summary>On Error: the connection is closed after this frame.</summary>
    Fatal = 0x0002,

    /// <summary>
    /// On Publish and Data: the high byte is the number of descriptors attached to the frame (SCM_RIGHTS),
    /// 0..255; see <see cref="FrameHeader.DescriptorCountOf"/> and <see cref="FrameHeader.WithDescriptors"/>.
    /// </summary>
    DescriptorCountMask = 0xFF00,
}
