using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// A POSIX shared memory object (shm_overview(7)), mapped: a named file in /dev/shm that processes map
/// to share memory. The object outlives every mapping until <see cref="Unlink"/> removes its name.
/// The descriptor is closed once the memory is mapped; the mapping keeps the object alive.
/// </summary>
public sealed class SharedMemory : IDisposable
{
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private SharedMemory(string name, MappedRegion region)
    {
        Name = name;
        Region = region;
    }

    /// <summary>The object's name, e.g. <c>/ipchub.ring</c> (the file <c>/dev/shm/ipchub.ring</c>).</summary>
    public string Name { get; }

    /// <summary>The mapping of the whole object.</summary>
    public MappedRegion Region { get; }

    /// <summary>The mapped size in bytes.</summary>
    public long Size => Region.Length;

    /// <summary>The whole mapping (see <see cref="MappedRegion.Span"/>).</summary>
    public Span<byte> Span => Region.Span;

    /// <summary>
    /// Creates the object <paramref name="name"/> of <paramref name="size"/> zero bytes and maps it
    /// read-write. If anything fails after the object was created, it is unlinked again, so a failed
    /// create leaves nothing behind.
    /// </summary>
    /// <param name="mode">The permission bits, applied exactly (the umask is not applied).</param>
    /// <param name="exclusive">
    /// Fail with EEXIST if it exists. When false an existing object is opened, grown to
    /// <paramref name="size"/> if smaller (never shrunk, which would fault other processes' mappings), and mapped.
    /// </param>
    public static SharedMemory Create(string name, long size, UnixFileMode mode = DefaultMode, bool exclusive = true)
    {
        PosixName.Validate(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);

        int fd = IpcNative.ShmOpen(name, (int)(OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL), (int)mode);
        bool created = true;
        if (fd == -(int)Errno.EEXIST && !exclusive)
        {
            fd = IpcNative.ShmOpen(name, (int)OpenFlags.O_RDWR, 0);
            created = false;
        }
        IpcError.Check(fd, "shm_open", name);

        try
        {
            using var handle = new SafeFdHandle(fd);
            if (created || SizeOf(handle, name) < size)
            {
                IpcError.Check(IpcNative.FTruncate(handle, size), "ftruncate", name);
            }
            return new SharedMemory(name, MappedRegion.Map(handle, size, writable: true, name));
        }
        catch when (created)
        {
            // Leave no half-made object behind; the original failure is what the caller needs to see.
            _ = IpcNative.ShmUnlink(name);
            throw;
        }
    }

    /// <summary>Opens and maps the whole of the existing object <paramref name="name"/> (its size from fstat(2)).</summary>
    /// <exception cref="IpcException">ENOENT when there is no such object; EACCES; EINVAL when it is still empty (size 0).</exception>
    public static SharedMemory Open(string name, bool writable = true)
    {
        PosixName.Validate(name, nameof(name));
        int fd = IpcError.Check(IpcNative.ShmOpen(name, (int)(writable ? OpenFlags.O_RDWR : OpenFlags.O_RDONLY), 0), "shm_open", name);
        using var handle = new SafeFdHandle(fd);
        long size = SizeOf(handle, name);
        if (size == 0)
        {
            // mmap of 0 bytes is EINVAL; the likely cause is a creator that has not sized it yet.
            IpcException plain = IpcError.Create(-(int)Errno.EINVAL, "mmap", name);
            throw new IpcException("mmap", name, plain.ErrorNumber, plain.Message + " (the object is empty: size 0)");
        }
        return new SharedMemory(name, MappedRegion.Map(handle, size, writable, name));
    }

    /// <summary>Removes the name <paramref name="name"/>; existing mappings stay valid until unmapped.</summary>
    /// <exception cref="IpcException">ENOENT when there is no such object.</exception>
    public static void Unlink(string name)
    {
        PosixName.Validate(name, nameof(name));
        IpcError.Check(IpcNative.ShmUnlink(name), "shm_unlink", name);
    }

    /// <summary>Removes the name <paramref name="name"/>; false when it did not exist (any other failure throws).</summary>
    public static bool TryUnlink(string name)
    {
        PosixName.Validate(name, nameof(name));
        int result = IpcNative.ShmUnlink(name);
        if (result == -(int)Errno.ENOENT)
        {
            return false;
        }
        IpcError.Check(result, "shm_unlink", name);
        return true;
    }

    /// <summary>Unmaps the memory; the object remains until unlinked.</summary>
    public void Dispose() => Region.Dispose();

    public override string ToString() => $"shm {Name} ({Size} bytes)";

    private static unsafe long SizeOf(SafeFdHandle handle, string name)
    {
        FileStatus status;
        IpcError.Check(IpcNative.FStat(handle, &status), "fstat", name);
        return status.Size;
    }
}
