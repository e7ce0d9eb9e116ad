namespace IpcCore.Protocol;

/// <summary>The type byte of a frame (docs/PROTOCOL.md). Values are part of the wire format.</summary>
public enum FrameType : byte
{
    /// <summary>Client → hub, first frame: client name and requested transport.</summary>
    Hello = 1,

    /// <summary>Hub → client, answer to Hello: client id, hub limits.</summary>
    Welcome = 2,

    /// <summary>Client → hub: subscribe to the pattern in the channel field; acked.</summary>
    Subscribe = 3,

    /// <summary>Client → hub: drop the subscription with exactly this pattern; acked.</summary>
    Unsubscribe = 4,

    /// <summary>Client → hub: a message for the channel; acked with the delivery count unless NoAck.</summary>
    Publish = 5,

    /// <summary>Hub → subscriber: a message of a channel, with the channel's sequence number.</summary>
    Data = 6,

    /// <summary>Hub → client: the request with this sequence number succeeded.</summary>
    Ack = 7,

    /// <summary>Either way: what went wrong; with <see cref="FrameFlags.Fatal"/> the sender closes the connection.</summary>
    Error = 8,

    /// <summary>Either way: a clean end of the connection; nothing follows it.</summary>
    Goodbye = 9,

    /// <summary>Either way: asks for a Pong with the same sequence number.</summary>
    Ping = 10,

    /// <summary>Answer to Ping.</summary>
    Pong = 11,
}
