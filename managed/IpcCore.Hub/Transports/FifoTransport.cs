using IpcCore.Protocol;

namespace IpcCore.Hub.Transports;

/// <summary>
/// The FIFO transport: per client two FIFOs in the hub directory, <c>ipchub.&lt;hubpid&gt;.&lt;clientid&gt;.c2h</c>
/// and <c>.h2c</c> (mode 0600, created exclusively). Welcome names them; their names are removed as soon as
/// the client's first frame shows it opened both (at the latest when it goes).
/// </summary>
public sealed class FifoTransport : IHubTransport
{
    private readonly string _directory;
    private readonly int _pipeSize;
    private readonly int _hubPid = ProcessInfo.CurrentPid;

    /// <param name="hubDirectory">Where the FIFOs are created.</param>
    /// <param name="pipeSize">The capacity asked for each FIFO (F_SETPIPE_SZ, best effort); 0 keeps the kernel's default.</param>
    public FifoTransport(string hubDirectory, int pipeSize = StreamPairTransports.DefaultPipeSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(hubDirectory);
        _directory = hubDirectory;
        _pipeSize = pipeSize;
    }

    public TransportKind Kind => TransportKind.Fifo;

    public string Name => "fifo";

    public IClientDataPath CreateDataPath(ulong clientId, UnixSocket control)
    {
        ArgumentNullException.ThrowIfNull(control);
        return StreamPairDataPath.CreateFifos(
            HubObjectNames.FifoPath(_directory, _hubPid, clientId, HubObjectNames.ClientToHub),
            HubObjectNames.FifoPath(_directory, _hubPid, clientId, HubObjectNames.HubToClient),
            _pipeSize);
    }

    public void Dispose()
    {
        // Every FIFO belongs to a data path, which removes it.
    }
}

/// <summary>
/// The anonymous-pipe transport: per client two pipes made by the hub; the client's ends travel with Welcome
/// over the control socket (SCM_RIGHTS). Nothing has a name, so nothing can be left behind.
/// </summary>
public sealed class PipeTransport : IHubTransport
{
    private readonly int _pipeSize;

    /// <param name="pipeSize">The capacity asked for each pipe (F_SETPIPE_SZ, best effort); 0 keeps the kernel's default.</param>
    public PipeTransport(int pipeSize = StreamPairTransports.DefaultPipeSize) => _pipeSize = pipeSize;

    public TransportKind Kind => TransportKind.Pipe;

    public string Name => "pipe";

    public IClientDataPath CreateDataPath(ulong clientId, UnixSocket control)
    {
        ArgumentNullException.ThrowIfNull(control);
        return StreamPairDataPath.CreatePipes(_pipeSize, control);
    }

    public void Dispose()
    {
    }
}

/// <summary>Settings shared by the FIFO and pipe transports.</summary>
public static class StreamPairTransports
{
    /// <summary>
    /// 256 KiB per pipe: four times the kernel's default, so a burst of small messages or a 64 KiB message
    /// moves in one write. Past the user's pipe quota (fs/pipe-user-pages-soft, 64 MiB by default: about
    /// 128 such clients) the kernel refuses the resize and the pipe keeps its default size.
    /// </summary>
    public const int DefaultPipeSize = 256 * 1024;
}
