using IpcCore.Protocol;

namespace IpcCore.Hub.Transports;

/// <summary>
/// A data mechanism the hub offers. Every client first connects to the hub's UNIX socket (the control
/// connection); its Hello names a transport, and the hub asks that transport for the client's
/// <see cref="IClientDataPath"/>. Transports that need hub-wide resources (a directory of FIFOs, a
/// shared-memory pool) own them and release them on dispose.
/// </summary>
public interface IHubTransport : IDisposable
{
    /// <summary>The value clients ask for in Hello.</summary>
    TransportKind Kind { get; }

    /// <summary>The name shown in the banner ("Backends available: socket") and in logs.</summary>
    string Name { get; }

    /// <summary>
    /// Creates the data path of client <paramref name="clientId"/>, whose control connection is
    /// <paramref name="control"/> (already non-blocking). Throws <see cref="IpcException"/> when the
    /// resources cannot be created; the client then gets a fatal Error and the hub goes on.
    /// </summary>
    IClientDataPath CreateDataPath(ulong clientId, UnixSocket control);
}
