using System.Buffers.Binary;
using IpcCore.Protocol;

namespace IpcCore.Hub.Local;

/// <summary>
/// Cuts the hub's outbound byte stream (whole frames, handed over in pieces that may split a frame
/// anywhere) back into frames, for the local paths that act on what the hub sends them. A frame that
/// arrives in one piece is returned in place; one split across pieces is gathered in a buffer that grows
/// up to the largest frame once and is then reused.
/// </summary>
internal sealed class FrameStreamWalker
{
    private byte[] _buffer = new byte[4096];
    private int _count;
    private long _needed = FrameHeader.Size;
    private bool _haveHeader;

    /// <summary>
    /// Takes bytes from <paramref name="source"/> (advancing it) until a whole frame is in; true with the frame
    /// (valid until the next call), false when <paramref name="source"/> ran out first (its bytes are kept).
    /// </summary>
    public bool TryTake(ref ReadOnlySpan<byte> source, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        if (_count == 0 && source.Length >= FrameHeader.Size)
        {
            long length = LengthOf(source);
            if (source.Length >= length)
            {
                frame = source[..(int)length];
                source = source[(int)length..];
                return true;
            }
        }
        while (!source.IsEmpty)
        {
            int take = (int)Math.Min(source.Length, _needed - _count);
            if (_buffer.Length < _count + take)
            {
                Array.Resize(ref _buffer, (int)Math.Max(_needed, _buffer.Length * 2L));
            }
            source[..take].CopyTo(_buffer.AsSpan(_count));
            source = source[take..];
            _count += take;
            if (_count < _needed)
            {
                return false;
            }
            if (!_haveHeader)
            {
                _haveHeader = true;
                _needed = LengthOf(_buffer);
                if (_count < _needed)
                {
                    continue;
                }
            }
            frame = _buffer.AsSpan(0, (int)_needed);
            _count = 0;
            _needed = FrameHeader.Size;
            _haveHeader = false;
            return true;
        }
        return false;
    }

    private static long LengthOf(ReadOnlySpan<byte> header)
        => FrameHeader.Size + (long)BinaryPrimitives.ReadUInt16LittleEndian(header[8..]) + BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
}
