using IpcCore.Protocol;

namespace IpcCore.Hub.Transports;

/// <summary>The UNIX-socket transport: data frames travel over the control connection itself.</summary>
public sealed class SocketTransport : IHubTransport
{
    public TransportKind Kind => TransportKind.Socket;

    public string Name => "socket";

    public IClientDataPath CreateDataPath(ulong clientId, UnixSocket control)
    {
        ArgumentNullException.ThrowIfNull(control);
        return new SocketDataPath(control);
    }

    public void Dispose()
    {
        // No hub-wide resources.
    }
}
