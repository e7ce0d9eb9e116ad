using System.Globalization;
using System.Runtime.CompilerServices;

namespace MyIpcBench.Raw;

/// <summary>
/// Fixed-size messages out of a byte stream: large reads into one buffer, split into messages in place;
/// a message that straddles two reads has its first part moved to the front before the next read.
/// </summary>
internal sealed class StreamSource : MessageSource
{
    /// <summary>The read size a C reader would use for a stream: many messages per read(2).</summary>
    public const int DefaultBufferBytes = 256 * 1024;

    private readonly IByteStream _stream;
    private readonly byte[] _buffer;
    private readonly int _size;
    private int _start; // first unconsumed byte
    private int _end;   // end of the bytes read

    public StreamSource(IByteStream stream, int messageSize)
    {
        _stream = stream;
        _size = messageSize;
        _buffer = new byte[Math.Max(DefaultBufferBytes, 2 * messageSize)];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override ReadOnlySpan<byte> Next()
    {
        if (_end - _start < _size)
        {
            Fill();
        }
        int at = _start;
        _start += _size;
        return new ReadOnlySpan<byte>(_buffer, at, _size);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fill()
    {
        // Less than a message left: move it to the front (under one message of copying) and read after it.
        int left = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, left).CopyTo(_buffer);
            _start = 0;
            _end = left;
        }
        while (_end < _size)
        {
            int read = _stream.Read(_buffer.AsSpan(_end));
            if (read == 0)
            {
                throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture,
                    $"{_stream}: end of stream{(_end > 0 ? $" inside a message ({_end} of {_size} bytes)" : string.Empty)}: the peer closed its end"));
            }
            _end += read;
        }
    }
}
