using System.Runtime.InteropServices;
using IpcCore.Protocol;

namespace IpcCore.Hub.Transports;

/// <summary>
/// The data path of a socket client: non-blocking recv/send on its control socket. It does not own the
/// socket (the connection does), so disposing it closes nothing.
/// </summary>
internal sealed class SocketDataPath : IClientDataPath
{
    private readonly UnixSocket _socket;

    public SocketDataPath(UnixSocket socket) => _socket = socket;

    public TransportKind Kind => TransportKind.Socket;

    public bool SharesControlSocket => true;

    public SafeHandle ReadHandle => _socket.Handle;

    public SafeHandle WriteHandle => _socket.Handle;

    public ReadOnlySpan<byte> WelcomeExtension => default;

    public IReadOnlyList<SafeHandle> WelcomeDescriptors => [];

    public void WelcomeSent()
    {
    }

    public IoResult Read(Span<byte> destination) => _socket.TryReceive(destination);

    public IoResult Read(Span<byte> destination, DescriptorInbox inbox) => _socket.TryReceiveStream(destination, inbox);

    public IoResult Write(ReadOnlySpan<byte> source) => _socket.TrySend(source);

    public DescriptorCarriage Descriptors => DescriptorCarriage.InBand;

    public IoResult WriteWithDescriptors(ReadOnlySpan<byte> source, ReadOnlySpan<SafeHandle> descriptors)
        => _socket.TrySendWithDescriptors(source, descriptors);

    public void Dispose()
    {
        // The connection owns and closes the socket.
    }
}
