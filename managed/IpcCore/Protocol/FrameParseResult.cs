namespace IpcCore.Protocol;

/// <summary>What <see cref="FrameReader.TryParse"/> found at the start of a buffer.</summary>
public enum FrameParseResult
{
    /// <summary>A whole, valid frame.</summary>
    Complete,

    /// <summary>Not enough bytes yet; <c>needed</c> says how many the whole frame takes (once the header is in).</summary>
    Incomplete,

    /// <summary>The bytes violate the protocol; the error code and reason say how. The connection must be closed.</summary>
    Invalid,
}
