using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// An exclusive flock(2) lock on a file, e.g. the hub's lock file that keeps a second hub from
/// starting. The kernel drops the lock when the holder's descriptor closes, including when the process
/// dies, so a crashed holder never leaves a stale lock. The file itself stays (removing a lock file is
/// racy: a waiter could lock the unlinked file while a newcomer creates a fresh one).
/// </summary>
/// <remarks>
/// flock locks belong to the open file description: two <see cref="FileLock"/>s on the same path
/// contend even inside one process. The descriptor is close-on-exec, so children never inherit the lock.
/// </remarks>
public sealed class FileLock : IDisposable
{
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly SafeFdHandle _handle;

    private FileLock(SafeFdHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The locked file.</summary>
    public string Path { get; }

    /// <summary>The descriptor holding the lock.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>
    /// Opens (creating with <paramref name="mode"/> if missing) and locks <paramref name="path"/> exclusively,
    /// without waiting. Returns null when another open file description holds a lock on it.
    /// </summary>
    /// <exception cref="IpcException">ENOENT when the directory is missing; EACCES.</exception>
    public static FileLock? TryAcquireExclusive(string path, UnixFileMode mode = DefaultMode)
        => Acquire(path, mode, wait: false);

    /// <summary>Opens (creating if missing) and locks <paramref name="path"/> exclusively, waiting while someone else holds it.</summary>
    public static FileLock AcquireExclusive(string path, UnixFileMode mode = DefaultMode)
        => Acquire(path, mode, wait: true)!;

    /// <summary>Releases the lock (LOCK_UN, so it is released even if the descriptor was duplicated) and closes the file.</summary>
    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            // Best effort: closing below releases it too unless a duplicate of the descriptor exists.
            _ = IpcNative.Flock(_handle, (int)FlockOp.LOCK_UN);
        }
        _handle.Dispose();
    }

    public override string ToString() => $"flock {Path}";

    private static FileLock? Acquire(string path, UnixFileMode mode, bool wait)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A path cannot contain NUL.", nameof(path));
        }
        int fd = IpcError.Check(IpcNative.Open(path, (int)(OpenFlags.O_RDWR | OpenFlags.O_CREAT), (int)mode), "open", path);
        var handle = new SafeFdHandle(fd);
        try
        {
            int operation = (int)FlockOp.LOCK_EX | (wait ? 0 : (int)FlockOp.LOCK_NB);
            int result = IpcNative.Flock(handle, operation);
            if (result == -(int)Errno.EAGAIN && !wait)
            {
                handle.Dispose();
                return null;
            }
            IpcError.Check(result, "flock(LOCK_EX)", path);
            return new FileLock(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
