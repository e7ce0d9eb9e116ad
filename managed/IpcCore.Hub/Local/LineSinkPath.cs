using System.Runtime.InteropServices;
using IpcCore.Hub.Transports;
using IpcCore.Native;
using IpcCore.Protocol;

namespace IpcCore.Hub.Local;

/// <summary>
/// Writes the payload of every Data frame the hub sends it, plus a newline, to a pipe: a <c>--child-sub</c>
/// child's stdin. A full pipe is backpressure like a slow socket client's (the outbound queue fills, then the
/// slow-subscriber policy applies). A payload is written as it is, newlines included.
/// </summary>
internal sealed class LineSinkPath : IClientDataPath
{
    private readonly PipeEnd _output;
    private readonly string _source;
    private readonly FrameStreamWalker _frames = new();
    private byte[] _pending = new byte[64 * 1024];
    private int _pendingStart;
    private int _pendingEnd;
    private bool _holdingLastByte;

    public LineSinkPath(PipeEnd stdin, string source)
    {
        _output = stdin;
        _source = source;
    }

    public TransportKind Kind => TransportKind.Pipe;

    public bool SharesControlSocket => false;

    /// <summary>The write end itself: it reports POLLERR once the child closed its stdin (or exited), which ends the path.</summary>
    public SafeHandle ReadHandle => _output.Handle;

    public SafeHandle WriteHandle => _output.Handle;

    public ReadOnlySpan<byte> WelcomeExtension => default;

    public IReadOnlyList<SafeHandle> WelcomeDescriptors => [];

    /// <summary>Lines written so far.</summary>
    public long LinesWritten { get; private set; }

    /// <summary>Whether bytes wait for room in the pipe.</summary>
    public bool HasPending => _pendingStart < _pendingEnd;

    public void WelcomeSent()
    {
    }

    /// <summary>Nothing comes from a child's stdin; a reader that went away shows as a hang-up (POLLERR).</summary>
    public IoResult Read(Span<byte> destination)
    {
        PollEvents events = FileDescriptor.Poll(_output.Handle, PollEvents.POLLOUT, 0);
        return (events & PollEvents.POLLERR) != 0 ? new IoResult(IoStatus.PeerClosed, 0) : new IoResult(IoStatus.WouldBlock, 0);
    }

    /// <remarks>
    /// A frame's last byte is reported taken only once its line is wholly in the pipe: the hub then keeps
    /// asking (and waiting for POLLOUT) while a line is half written, though the frame is already parsed.
    /// </remarks>
    public IoResult Write(ReadOnlySpan<byte> source)
    {
        int taken = 0;
        while (true)
        {
            IoResult flushed = FlushPending();
            if (flushed.Status == IoStatus.PeerClosed)
            {
                return flushed;
            }
            if (HasPending)
            {
                break;
            }
            if (_holdingLastByte)
            {
                // The line of the frame that ended with the first byte of source is out: take that byte now.
                _holdingLastByte = false;
                source = source[1..];
                taken++;
            }
            if (source.IsEmpty)
            {
                break;
            }
            // One frame at a time, so at most one line waits here.
            int before = source.Length;
            bool whole = _frames.TryTake(ref source, out ReadOnlySpan<byte> frame);
            taken += before - source.Length;
            if (!whole)
            {
                break;
            }
            if (frame[5] == (byte)FrameType.Data)
            {
                int channelLength = frame[8] | (frame[9] << 8);
                ReadOnlySpan<byte> payload = frame[(FrameHeader.Size + channelLength)..];
                if (_pending.Length < payload.Length + 1)
                {
                    _pending = new byte[payload.Length + 1];
                }
                payload.CopyTo(_pending);
                _pending[payload.Length] = (byte)'\n';
                _pendingStart = 0;
                _pendingEnd = payload.Length + 1;
                LinesWritten++;
                if (FlushPending().Status == IoStatus.Success && !HasPending)
                {
                    continue;
                }
                _holdingLastByte = true;
                taken--;
                break;
            }
        }
        return taken > 0 ? new IoResult(IoStatus.Success, taken) : new IoResult(IoStatus.WouldBlock, 0);
    }

    private IoResult FlushPending()
    {
        while (_pendingStart < _pendingEnd)
        {
            IoResult result = _output.TryWrite(_pending.AsSpan(_pendingStart, _pendingEnd - _pendingStart));
            if (result.Status != IoStatus.Success)
            {
                return result;
            }
            _pendingStart += result.BytesTransferred;
        }
        _pendingStart = _pendingEnd = 0;
        return new IoResult(IoStatus.Success, 0);
    }

    public void Dispose() => _output.Dispose();

    public override string ToString() => _source;
}
