using System.Globalization;

namespace IpcCore.Protocol;

/// <summary>The names the tools use for transports (<c>--transport socket</c>, the hub's banner).</summary>
public static class TransportNames
{
    /// <summary>socket, fifo, mqueue, shm or pipe (the number for an unknown value).</summary>
    public static string Of(TransportKind kind) => kind switch
    {
        TransportKind.Socket => "socket",
        TransportKind.Fifo => "fifo",
        TransportKind.MessageQueue => "mqueue",
        TransportKind.SharedMemory => "shm",
        TransportKind.Pipe => "pipe",
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };
}
