using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// Named pipes (fifo(7)): a pipe with a path, so unrelated processes can open its two ends. Opening
/// blocks until the other side opens too, unless non-blocking: a non-blocking reader opens at once, a
/// non-blocking writer fails with ENXIO while no reader has it open.
/// </summary>
public static class Fifo
{
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const uint FileTypeMask = 0xF000; // S_IFMT


    /// <summary>Creates the FIFO <paramref name="path"/> with exactly <paramref name="mode"/> (the umask is not applied).</summary>
    /// <exception cref="IpcException">EEXIST when the path exists; ENOENT when its directory does not; EACCES.</exception>
    public static void Create(string path, UnixFileMode mode = DefaultMode)
    {
        ValidatePath(path);
        IpcError.Check(IpcNative.MkFifo(path, (int)mode), "mkfifo", path);
    }

    /// <summary>
    /// Opens the read end. Blocking: waits until a writer opens the FIFO. Non-blocking: returns at once,
    /// and reads report <see cref="IoStatus.WouldBlock"/> while empty (or end of stream while no writer has it open).
    /// </summary>
    /// <exception cref="IpcException">ENOENT; EACCES; EINVAL when the path is not a FIFO.</exception>
    public static PipeEnd OpenReader(string path, bool nonBlocking = false)
        => Open(path, FileAccess.Read, nonBlocking);

    /// <summary>
    /// Opens the write end. Blocking: waits until a reader opens the FIFO. Non-blocking: fails with ENXIO
    /// when no process has it open for reading.
    /// </summary>
    /// <exception cref="IpcException">ENXIO (non-blocking, no reader); ENOENT; EACCES; EINVAL when the path is not a FIFO.</exception>
    public static PipeEnd OpenWriter(string path, bool nonBlocking = false)
        => Open(path, FileAccess.Write, nonBlocking);

    /// <summary>
    /// Opens both ends in one descriptor (O_RDWR, Linux-specific): never blocks, and since this descriptor
    /// is itself a reader and a writer, its reads never see end of stream and its writes never fail with
    /// EPIPE when the other side comes and goes (so an epoll loop gets no hang-up storm from it).
    /// </summary>
    /// <exception cref="IpcException">ENOENT; EACCES; EINVAL when the path is not a FIFO.</exception>
    public static PipeEnd OpenReadWrite(string path, bool nonBlocking = true)
        => Open(path, FileAccess.ReadWrite, nonBlocking);

    /// <summary>Removes the FIFO's name; open ends keep working.</summary>
    /// <exception cref="IpcException">ENOENT when it does not exist.</exception>
    public static void Unlink(string path)
    {
        ValidatePath(path);
        IpcError.Check(IpcNative.Unlink(path), "unlink", path);
    }

    /// <summary>Removes the FIFO's name; false when it did not exist (any other failure throws).</summary>
    public static bool TryUnlink(string path)
    {
        ValidatePath(path);
        int result = IpcNative.Unlink(path);
        if (result == -(int)Errno.ENOENT)
        {
            return false;
        }
        IpcError.Check(result, "unlink", path);
        return true;
    }

    private static unsafe PipeEnd Open(string path, FileAccess access, bool nonBlocking)
    {
        ValidatePath(path);
        int flags = access switch
            {
                FileAccess.Read => (int)OpenFlags.O_RDONLY,
                FileAccess.Write => (int)OpenFlags.O_WRONLY,
                _ => (int)OpenFlags.O_RDWR,
            }
            | (nonBlocking ? (int)OpenFlags.O_NONBLOCK : 0);
        int fd = IpcNative.Open(path, flags, 0);
        if (fd == -(int)Errno.ENXIO)
        {
            IpcException plain = IpcError.Create(fd, "open", path);
            throw new IpcException(plain.Operation, path, plain.ErrorNumber,
                plain.Message + ": no process has the FIFO open for reading, and a non-blocking writer does not wait for one");
        }
        IpcError.Check(fd, "open", path);

        var handle = new SafeFdHandle(fd);
        try
        {
            // Opening a regular file here would "work" and then behave nothing like a pipe: refuse it.
            FileStatus status;
            IpcError.Check(IpcNative.FStat(handle, &status), "fstat", path);
            if (status.IsFifo == 0)
            {
                IpcException plain = IpcError.Create(-(int)Errno.EINVAL, "open", path);
                throw new IpcException(plain.Operation, path, plain.ErrorNumber,
                    $"{plain.Message}: '{path}' is not a FIFO (file type 0{Convert.ToString(status.Mode & FileTypeMask, 8)})");
            }
            return new PipeEnd(handle, access, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void ValidatePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A path cannot contain NUL.", nameof(path));
        }
    }
}
