using System.Runtime.InteropServices;
using IpcCore.Protocol;

namespace IpcCore.Hub.Transports;

/// <summary>
/// The hub's side of a client whose frames travel over two one-way byte streams: a FIFO pair in the hub
/// directory or a pair of anonymous pipes passed with Welcome. Both hub ends are non-blocking; a frame
/// longer than PIPE_BUF is simply written in pieces (each stream has a single writer, so nothing
/// interleaves). The client's liveness is its control socket.
/// </summary>
internal sealed class StreamPairDataPath : IClientDataPath
{
    private readonly PipeEnd _input;
    private readonly PipeEnd _output;
    private readonly byte[] _welcomeExtension;
    private readonly string[] _namesToUnlink;
    private SafeHandle[] _welcomeDescriptors;
    private PipeEnd[] _clientEnds;
    private readonly string _description;
    private readonly UnixSocket? _control;
    private bool _unlinked;
    private bool _disposed;

    private StreamPairDataPath(TransportKind kind, PipeEnd input, PipeEnd output, byte[] welcomeExtension, string[] namesToUnlink,
        PipeEnd[] clientEnds, string description, UnixSocket? control = null)
    {
        Kind = kind;
        _control = control;
        _input = input;
        _output = output;
        _welcomeExtension = welcomeExtension;
        _namesToUnlink = namesToUnlink;
        _clientEnds = clientEnds;
        _welcomeDescriptors = clientEnds.Select(e => (SafeHandle)e.Handle).ToArray();
        _unlinked = namesToUnlink.Length == 0;
        _description = description;
    }

    /// <summary>
    /// Creates <paramref name="c2hPath"/> and <paramref name="h2cPath"/> (mkfifo, exclusive, mode 0600) and opens
    /// both read-write and non-blocking: so opening never waits for the client, and the hub sees neither end of
    /// stream nor EPIPE when the client's ends come and go (its control socket says when it is gone).
    /// </summary>
    public static StreamPairDataPath CreateFifos(string c2hPath, string h2cPath, int pipeSize)
    {
        bool c2hMade = false, h2cMade = false;
        PipeEnd? input = null, output = null;
        try
        {
            Fifo.Create(c2hPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            c2hMade = true;
            Fifo.Create(h2cPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            h2cMade = true;
            input = Fifo.OpenReadWrite(c2hPath);
            output = Fifo.OpenReadWrite(h2cPath);
            TryResize(input, pipeSize);
            TryResize(output, pipeSize);
            var ext = new List<byte>(256);
            WelcomeExtensions.AppendName(ext, c2hPath);
            WelcomeExtensions.AppendName(ext, h2cPath);
            return new StreamPairDataPath(TransportKind.Fifo, input, output, ext.ToArray(), [c2hPath, h2cPath], [],
                $"FIFOs {c2hPath}, {h2cPath}");
        }
        catch
        {
            input?.Dispose();
            output?.Dispose();
            if (c2hMade)
            {
                Fifo.TryUnlink(c2hPath);
            }
            if (h2cMade)
            {
                Fifo.TryUnlink(h2cPath);
            }
            throw;
        }
    }

    /// <summary>
    /// Creates two pipes; the client's ends (the c2h write end, the h2c read end) go with Welcome (SCM_RIGHTS)
    /// and are closed here once it is sent. The hub then sees end of stream and EPIPE like on a socket. Messages'
    /// descriptors travel ahead of their frames on <paramref name="control"/> (not owned: the connection closes it).
    /// </summary>
    public static StreamPairDataPath CreatePipes(int pipeSize, UnixSocket? control = null)
    {
        (PipeEnd Reader, PipeEnd Writer)? c2h = null, h2c = null;
        try
        {
            c2h = Pipe.Create(nonBlocking: true);
            h2c = Pipe.Create(nonBlocking: true);
            TryResize(c2h.Value.Reader, pipeSize);
            TryResize(h2c.Value.Writer, pipeSize);
            return new StreamPairDataPath(TransportKind.Pipe, c2h.Value.Reader, h2c.Value.Writer, [], [],
                [c2h.Value.Writer, h2c.Value.Reader], "anonymous pipes", control);
        }
        catch
        {
            c2h?.Reader.Dispose();
            c2h?.Writer.Dispose();
            h2c?.Reader.Dispose();
            h2c?.Writer.Dispose();
            throw;
        }
    }

    private static void TryResize(PipeEnd end, int size)
    {
        if (size <= 0)
        {
            return;
        }
        try
        {
            end.Capacity = size;
        }
        catch (IpcException)
        {
            // EPERM over /proc/sys/fs/pipe-max-size or the user's pipe quota: the default 64 KiB works too.
        }
    }

    public TransportKind Kind { get; }

    public bool SharesControlSocket => false;

    public SafeHandle ReadHandle => _input.Handle;

    public SafeHandle WriteHandle => _output.Handle;

    public ReadOnlySpan<byte> WelcomeExtension => _welcomeExtension;

    public IReadOnlyList<SafeHandle> WelcomeDescriptors => _welcomeDescriptors;

    public void WelcomeSent()
    {
        // The client holds its ends now; ours would keep the streams open after it goes.
        foreach (PipeEnd end in _clientEnds)
        {
            end.Dispose();
        }
        _clientEnds = [];
        _welcomeDescriptors = [];
    }

    public IoResult Read(Span<byte> destination)
    {
        IoResult result = _input.TryRead(destination);
        if (result.Status == IoStatus.Success && !_unlinked)
        {
            // The client's first frame came: it has opened both FIFOs, their names can go.
            Unlink();
        }
        return result;
    }

    public IoResult Write(ReadOnlySpan<byte> source) => _output.TryWrite(source);

    public DescriptorCarriage Descriptors => Kind == TransportKind.Pipe && _control is not null ? DescriptorCarriage.Ahead : DescriptorCarriage.None;

    public IoResult SendDescriptorsAhead(ReadOnlySpan<SafeHandle> descriptors)
        => _control!.TrySendWithDescriptors(DescriptorMarker, descriptors);

    public bool ReceiveDescriptorsAhead(DescriptorInbox inbox)
    {
        // One marker, so one batch: the one the frame at hand needs (the rest wait in the socket, in the client's
        // send buffer's account, not in the hub's descriptor table).
        Span<byte> marker = stackalloc byte[1];
        IoResult result = _control!.TryReceiveStream(marker, inbox, dontWait: true);
        return result.Status is IoStatus.Success or IoStatus.WouldBlock;
    }

    /// <summary>The byte that carries a batch on the control socket (a stream sends no descriptors without one).</summary>
    private static ReadOnlySpan<byte> DescriptorMarker => "D"u8;

    private void Unlink()
    {
        _unlinked = true;
        foreach (string name in _namesToUnlink)
        {
            Fifo.TryUnlink(name);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!_unlinked)
        {
            Unlink();
        }
        WelcomeSent();
        _input.Dispose();
        _output.Dispose();
    }

    public override string ToString() => _description;
}
