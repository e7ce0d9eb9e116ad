using System.Globalization;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// One end of an anonymous pipe (<see cref="Pipe.Create"/>) or a FIFO (<see cref="Fifo.OpenReader"/>,
/// <see cref="Fifo.OpenWriter"/>): a byte stream in one direction. Reads and writes allocate nothing;
/// the <c>Try*</c> forms report "would block", "end of stream" and "reader gone" as values.
/// </summary>
public sealed class PipeEnd : IDisposable
{
    private readonly SafeFdHandle _handle;
    private readonly string? _path;

    internal PipeEnd(SafeFdHandle handle, FileAccess access, string? path)
    {
        _handle = handle;
        Access = access;
        _path = path;
    }

    /// <summary>The descriptor, e.g. to pass to another process over a <see cref="UnixSocket"/>.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary><see cref="FileAccess.Read"/> for a read end, <see cref="FileAccess.Write"/> for a write end.</summary>
    public FileAccess Access { get; }

    /// <summary>The FIFO's path, or null for an anonymous pipe.</summary>
    public string? Path => _path;

    /// <summary>Whether reads and writes fail with EAGAIN (<see cref="IoStatus.WouldBlock"/>) instead of waiting.</summary>
    public bool NonBlocking
    {
        get
        {
            ThrowIfDisposed();
            return FileDescriptor.Check(IpcNative.GetNonBlocking(_handle), "fcntl(F_GETFL)", _path, _handle) != 0;
        }
        set
        {
            ThrowIfDisposed();
            FileDescriptor.Check(IpcNative.SetNonBlocking(_handle, value ? 1 : 0), "fcntl(F_SETFL)", _path, _handle);
        }
    }

    /// <summary>
    /// The pipe's capacity in bytes (F_GETPIPE_SZ; 65536 by default). Setting it (F_SETPIPE_SZ) rounds up
    /// to a power-of-two number of pages; EBUSY when smaller than what is queued, EPERM above
    /// /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE. Both ends share the one capacity.
    /// </summary>
    public int Capacity
    {
        get
        {
            ThrowIfDisposed();
            return FileDescriptor.Check(IpcNative.GetPipeSize(_handle), "fcntl(F_GETPIPE_SZ)", _path, _handle);
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ThrowIfDisposed();
            FileDescriptor.Check(IpcNative.SetPipeSize(_handle, value), "fcntl(F_SETPIPE_SZ)", _path, _handle);
        }
    }

    /// <summary>Takes ownership of a pipe or FIFO descriptor, e.g. one received over a <see cref="UnixSocket"/>.</summary>
    public static PipeEnd FromHandle(SafeFdHandle handle, FileAccess access)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfEqual(handle.IsInvalid, true, nameof(handle));
        if (access is not (FileAccess.Read or FileAccess.Write))
        {
            throw new ArgumentOutOfRangeException(nameof(access), access, "A pipe end is either Read or Write.");
        }
        return new PipeEnd(handle, access, path: null);
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; returns the count, 0 once every writer has closed.</summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and empty.</exception>
    public int Read(Span<byte> buffer)
    {
        ThrowIfDisposed();
        return FileDescriptor.Check(FileDescriptor.ReadRaw(_handle, buffer), "read", _path, _handle);
    }

    /// <summary>Reads without throwing for bytes, <see cref="IoStatus.WouldBlock"/> or <see cref="IoStatus.EndOfStream"/>.</summary>
    public IoResult TryRead(Span<byte> buffer)
    {
        ThrowIfDisposed();
        return FileDescriptor.ToReadResult(FileDescriptor.ReadRaw(_handle, buffer), buffer.Length, "read", _path, _handle);
    }

    /// <summary>
    /// Writes up to <paramref name="data"/>.Length bytes and returns how many were taken. Writes of at most
    /// <see cref="Pipe.AtomicWriteLimit"/> bytes are never split or interleaved with other writers.
    /// </summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and full; EPIPE when no reader is left.</exception>
    public int Write(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        return FileDescriptor.Check(FileDescriptor.WritePipeRaw(_handle, data), "write", _path, _handle);
    }

    /// <summary>Writes without throwing for bytes, <see cref="IoStatus.WouldBlock"/> or <see cref="IoStatus.PeerClosed"/> (no reader left).</summary>
    public IoResult TryWrite(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        return FileDescriptor.ToWriteResult(FileDescriptor.WritePipeRaw(_handle, data), "write", _path, _handle);
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting for room (for blocking ends).</summary>
    public void WriteAll(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        FileDescriptor.WriteAll(_handle, data, _path);
    }

    /// <summary>Closes this end. The reader sees end of stream once every write end is closed; writers get EPIPE once every read end is.</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{(Access switch { FileAccess.Read => "read end", FileAccess.Write => "write end", _ => "both ends" })} {_path ?? "pipe"} ({_handle})");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
}
