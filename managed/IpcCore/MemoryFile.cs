using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// An anonymous memory file (memfd_create(2)) that can be sealed: write or map it, add
/// <see cref="FileSeals"/>, then hand the descriptor to another process, which can trust the seals
/// (e.g. <see cref="FileSeals.Immutable"/>: nobody can change the contents any more). It has no
/// name in any namespace, so nothing is left behind when the last descriptor and mapping go.
/// </summary>
public sealed class MemoryFile : IDisposable
{
    private readonly SafeFdHandle _handle;
    private readonly string _objectName;

    private MemoryFile(SafeFdHandle handle, string label)
    {
        _handle = handle;
        Label = label;
        _objectName = "memfd:" + label;
    }

    /// <summary>The label shown in /proc/&lt;pid&gt;/fd (memfd:&lt;label&gt;); it names nothing.</summary>
    public string Label { get; }

    /// <summary>The descriptor, e.g. to pass to another process over a UNIX socket.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>The current size in bytes (fstat(2)).</summary>
    public unsafe long Size
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            FileStatus status;
            IpcError.Check(IpcNative.FStat(_handle, &status), "fstat", _objectName);
            return status.Size;
        }
    }

    /// <summary>
    /// Creates a memory file of <paramref name="size"/> zero bytes. With <paramref name="allowSealing"/>
    /// (the default) seals can be added; without it the file is born with <see cref="FileSeals.Seal"/>.
    /// </summary>
    public static MemoryFile Create(string label, long size = 0, bool allowSealing = true)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int flags = allowSealing ? (int)MemfdFlags.MFD_ALLOW_SEALING : 0;
        int fd = IpcError.Check(IpcNative.MemfdCreate(label, flags), "memfd_create", label);
        var file = new MemoryFile(new SafeFdHandle(fd), label);
        if (size > 0)
        {
            try
            {
                file.SetSize(size);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        return file;
    }

    /// <summary>Takes ownership of a memfd descriptor received from another process.</summary>
    public static MemoryFile FromHandle(SafeFdHandle handle, string label = "received")
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(label);
        if (handle.IsInvalid || handle.IsClosed)
        {
            throw new ArgumentException("The handle is not an open descriptor.", nameof(handle));
        }
        return new MemoryFile(handle, label);
    }

    /// <summary>Sets the size (ftruncate(2)); EPERM once sealed against the change.</summary>
    public void SetSize(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        IpcError.Check(IpcNative.FTruncate(_handle, size), "ftruncate", _objectName);
    }

    /// <summary>
    /// Writes all of <paramref name="data"/> at the file position (0 for a new file; each write
    /// advances it), growing the file if needed. EPERM once sealed against writes or growth.
    /// </summary>
    public unsafe void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                int written = IpcError.Check(IpcNative.Write(_handle, p + done, data.Length - done), "write", _objectName);
                if (written == 0)
                {
                    // A regular file never takes 0 bytes of a non-empty write; do not spin if it does.
                    IpcError.Throw(-(int)Errno.EIO, "write", _objectName);
                }
                done += written;
            }
        }
    }

    /// <summary>Adds <paramref name="seals"/> (fcntl F_ADD_SEALS). EPERM once <see cref="FileSeals.Seal"/> is set; EBUSY for <see cref="FileSeals.Write"/> while a writable mapping exists.</summary>
    public void AddSeals(FileSeals seals)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        IpcError.Check(IpcNative.AddSeals(_handle, (int)seals), "fcntl(F_ADD_SEALS)", _objectName);
    }

    /// <summary>The seals set on the file (fcntl F_GET_SEALS).</summary>
    public FileSeals GetSeals()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return (FileSeals)IpcError.Check(IpcNative.GetSeals(_handle), "fcntl(F_GET_SEALS)", _objectName);
    }

    /// <summary>
    /// Maps the whole file, MAP_SHARED. A writable mapping fails with EPERM once
    /// <see cref="FileSeals.Write"/> or <see cref="FileSeals.FutureWrite"/> is set; a read-only one always works.
    /// </summary>
    public MappedRegion Map(bool readOnly = false)
    {
        long size = Size;
        if (size == 0)
        {
            IpcException plain = IpcError.Create(-(int)Errno.EINVAL, "mmap", _objectName);
            throw new IpcException("mmap", _objectName, plain.ErrorNumber, plain.Message + " (the file is empty: size 0)");
        }
        return MappedRegion.Map(_handle, size, !readOnly, _objectName);
    }

    /// <summary>Closes the descriptor; the memory is freed once no mapping or other descriptor refers to it.</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString() => _objectName;
}
