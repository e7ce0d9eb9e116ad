using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Hub.Transports;
using IpcCore.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcCore.Hub.Local;

/// <summary>
/// Turns lines read from a pipe or FIFO into Publish frames (NoAck), so the hub serves a shell's lines like
/// any client's messages, with the same routing, ordering and backpressure (when a channel stalls, the hub
/// stops reading and the writers block). Two shapes: the inbox FIFO, whose lines are
/// <c>CHANNEL PAYLOAD</c>, and a child's stdout, whose every line is a payload for one channel.
/// A line over the limit or a malformed one is logged and skipped whole; it never reaches a subscriber.
/// </summary>
internal sealed partial class LineSourcePath : IClientDataPath
{
    private readonly PipeEnd _input;
    private readonly bool _ownsInput;
    private readonly byte[]? _fixedChannel;
    private readonly int _maxLine;
    private readonly ILogger _logger;
    private readonly string _source;
    private readonly byte[] _lineBuffer;
    private int _lineLength;
    private bool _skipping;          // inside a rejected line: drop bytes up to its newline
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private int _readStart;
    private int _readEnd;
    private byte[] _frame;           // the Publish frame being handed out
    private int _frameStart;
    private int _frameEnd;
    private bool _ended;
    private ulong _nextId = 1;
    private readonly FrameStreamWalker _replies = new();

    private LineSourcePath(PipeEnd input, bool ownsInput, byte[]? fixedChannel, int maxLine, ILogger logger, string source)
    {
        _input = input;
        _ownsInput = ownsInput;
        _fixedChannel = fixedChannel;
        _maxLine = maxLine;
        _logger = logger;
        _source = source;
        _lineBuffer = new byte[maxLine];
        _frame = new byte[FrameHeader.Size + FrameHeader.MaxChannelLength + Math.Min(maxLine, 64 * 1024)];
    }

    /// <summary>
    /// The inbox: lines <c>CHANNEL PAYLOAD</c> of at most <paramref name="maxLine"/> bytes with the newline
    /// (PIPE_BUF, so a line is one atomic write even with many writers).
    /// </summary>
    public static LineSourcePath ForInbox(PipeEnd fifo, int maxLine, ILogger logger, string source)
        => new(fifo, ownsInput: false, fixedChannel: null, maxLine, logger, source);

    /// <summary>A child's stdout: every line (up to the maximum message size) is published to <paramref name="channel"/>.</summary>
    public static LineSourcePath ForChannel(PipeEnd stdout, string channel, int maxMessageSize, ILogger logger, string source)
        => new(stdout, ownsInput: true, Encoding.UTF8.GetBytes(channel), checked(maxMessageSize + 1), logger, source);

    public TransportKind Kind => TransportKind.Pipe;

    public bool SharesControlSocket => false;

    public SafeHandle ReadHandle => _input.Handle;

    public SafeHandle WriteHandle => _input.Handle;

    public ReadOnlySpan<byte> WelcomeExtension => default;

    public IReadOnlyList<SafeHandle> WelcomeDescriptors => [];

    /// <summary>Lines published so far.</summary>
    public long LinesPublished { get; private set; }

    /// <summary>Lines rejected so far (too long, malformed).</summary>
    public long LinesRejected { get; private set; }

    public void WelcomeSent()
    {
    }

    public IoResult Read(Span<byte> destination)
    {
        int written = 0;
        while (written < destination.Length)
        {
            if (_frameStart < _frameEnd)
            {
                int n = Math.Min(_frameEnd - _frameStart, destination.Length - written);
                _frame.AsSpan(_frameStart, n).CopyTo(destination[written..]);
                _frameStart += n;
                written += n;
                continue;
            }
            if (TryNextLine())
            {
                continue;
            }
            if (_ended)
            {
                break;
            }
            IoResult read = _input.TryRead(_readBuffer);
            if (read.Status == IoStatus.Success)
            {
                _readStart = 0;
                _readEnd = read.BytesTransferred;
                continue;
            }
            if (read.Status == IoStatus.WouldBlock)
            {
                break;
            }
            // End of stream (the child closed its stdout): a last line without a newline still counts.
            _ended = true;
            if (_lineLength > 0 && !_skipping)
            {
                EmitLine(_lineBuffer.AsSpan(0, _lineLength));
            }
            _lineLength = 0;
        }
        if (written > 0)
        {
            return new IoResult(IoStatus.Success, written);
        }
        return _ended ? new IoResult(IoStatus.EndOfStream, 0) : new IoResult(IoStatus.WouldBlock, 0);
    }

    /// <summary>Takes buffered bytes up to the next newline; true when that produced a frame to hand out.</summary>
    private bool TryNextLine()
    {
        while (_readStart < _readEnd)
        {
            ReadOnlySpan<byte> available = _readBuffer.AsSpan(_readStart, _readEnd - _readStart);
            int newline = available.IndexOf((byte)'\n');
            ReadOnlySpan<byte> piece = newline >= 0 ? available[..newline] : available;
            _readStart += newline >= 0 ? newline + 1 : available.Length;
            if (!_skipping)
            {
                if (_lineLength + piece.Length + (newline >= 0 ? 1 : 0) > _maxLine)
                {
                    LinesRejected++;
                    LogLineTooLong(_logger, _source, _maxLine);
                    _skipping = true;
                    _lineLength = 0;
                }
                else
                {
                    piece.CopyTo(_lineBuffer.AsSpan(_lineLength));
                    _lineLength += piece.Length;
                }
            }
            if (newline < 0)
            {
                return false;
            }
            if (_skipping)
            {
                _skipping = false;
                continue;
            }
            int length = _lineLength;
            _lineLength = 0;
            if (EmitLine(_lineBuffer.AsSpan(0, length)))
            {
                return true;
            }
        }
        return false;
    }

    private bool EmitLine(ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> channel;
        ReadOnlySpan<byte> payload;
        if (_fixedChannel is not null)
        {
            channel = _fixedChannel;
            payload = line;
        }
        else
        {
            int space = line.IndexOf((byte)' ');
            if (line.IsEmpty)
            {
                return false; // a blank line: nothing to say, nothing to complain about
            }
            if (space <= 0)
            {
                return Reject(line, "expected 'CHANNEL PAYLOAD'");
            }
            channel = line[..space];
            payload = line[(space + 1)..];
            if (channel.Length > FrameHeader.MaxChannelLength || !ChannelName.IsValidName(channel))
            {
                return Reject(line, ChannelName.Explain(channel, allowWildcards: false) ?? "invalid channel name");
            }
        }
        int length = FrameWriter.FrameLength(channel.Length, payload.Length);
        if (_frame.Length < length)
        {
            _frame = new byte[Math.Max(length, _frame.Length * 2)];
        }
        FrameWriter.Write(_frame, FrameType.Publish, FrameFlags.NoAck, _nextId++, channel, payload);
        _frameStart = 0;
        _frameEnd = length;
        LinesPublished++;
        return true;
    }

    private bool Reject(ReadOnlySpan<byte> line, string why)
    {
        LinesRejected++;
        string shown = Encoding.UTF8.GetString(line[..Math.Min(line.Length, 80)]);
        LogLineRejected(_logger, _source, why, shown);
        return false;
    }

    /// <summary>What the hub says back (no Acks: NoAck) is dropped; a refusal is logged.</summary>
    public IoResult Write(ReadOnlySpan<byte> source)
    {
        int total = source.Length;
        while (_replies.TryTake(ref source, out ReadOnlySpan<byte> frame))
        {
            if (frame[5] == (byte)FrameType.Error && ErrorPayload.TryRead(frame[FrameHeader.Size..], out ProtocolErrorCode code, out string reason))
            {
                LogRefused(_logger, _source, code, reason);
            }
        }
        return new IoResult(IoStatus.Success, total);
    }

    public void Dispose()
    {
        if (_ownsInput)
        {
            _input.Dispose();
        }
    }

    public override string ToString() => _source;

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning, Message = "{Source}: a line over {Limit} bytes was rejected (skipped up to its newline)")]
    private static partial void LogLineTooLong(ILogger logger, string source, int limit);

    [LoggerMessage(EventId = 71, Level = LogLevel.Warning, Message = "{Source}: a line was rejected ({Why}): {Line}")]
    private static partial void LogLineRejected(ILogger logger, string source, string why, string line);

    [LoggerMessage(EventId = 72, Level = LogLevel.Warning, Message = "{Source}: the hub refused a message: {Code}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string source, ProtocolErrorCode code, string reason);
}
