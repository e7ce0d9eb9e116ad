namespace IpcCore.Protocol;

/// <summary>The data transport a client asks for in Hello. Values are part of the wire format.</summary>
public enum TransportKind : byte
{
    /// <summary>Everything over the UNIX-domain control socket.</summary>
    Socket = 1,

    /// <summary>A pair of FIFOs in the hub directory.</summary>
    Fifo = 2,

    /// <summary>A pair of POSIX message queues.</summary>
    MessageQueue = 3,

    /// <summary>A pair of shared-memory ring buffers.</summary>
    SharedMemory = 4,

    /// <summary>A pair of anonymous pipes passed over the control socket.</summary>
    Pipe = 5,
}
