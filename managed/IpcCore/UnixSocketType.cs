using IpcCore.Native;

namespace IpcCore;

/// <summary>The kind of a <see cref="UnixSocket"/> (socket(2) type; AF_UNIX is implied).</summary>
public enum UnixSocketType
{
    /// <summary>A connected byte stream (SOCK_STREAM): no message boundaries.</summary>
    Stream = SocketType.SOCK_STREAM,

    /// <summary>Datagrams (SOCK_DGRAM): message boundaries, no connection needed.</summary>
    Datagram = SocketType.SOCK_DGRAM,

    /// <summary>A connection that keeps message boundaries and order (SOCK_SEQPACKET).</summary>
    SeqPacket = SocketType.SOCK_SEQPACKET,
}
