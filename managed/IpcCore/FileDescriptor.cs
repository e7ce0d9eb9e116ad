using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// Operations on any descriptor held by a <see cref="SafeHandle"/> (a <see cref="SafeFdHandle"/>, a
/// <see cref="Microsoft.Win32.SafeHandles.SafeFileHandle"/>, a received descriptor): read, write,
/// O_NONBLOCK, FD_CLOEXEC, fstat and poll. <see cref="PipeEnd"/>, <see cref="UnixSocket"/> and
/// <see cref="EventFd"/> build on these. Reads and writes allocate nothing.
/// </summary>
public static class FileDescriptor
{
    /// <summary>The most handles one <see cref="Poll(ReadOnlySpan{SafeHandle}, ReadOnlySpan{PollEvents}, Span{PollEvents}, int)"/> call takes; use <see cref="EpollSet"/> for more.</summary>
    public const int MaxPollHandles = 64;

    /// <summary>Opens <paramref name="path"/> read-only (close-on-exec).</summary>
    /// <exception cref="IpcException">open(2) failed: the message names the path and the errno, e.g. <c>open('/x'): EACCES (Permission denied)</c>.</exception>
    public static SafeFdHandle OpenReadOnly(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new SafeFdHandle(IpcError.Check(IpcNative.Open(path, (int)OpenFlags.O_RDONLY, 0), "open", path));
    }

    /// <summary>
    /// A new descriptor of the same open file (fcntl F_DUPFD_CLOEXEC): shares the file offset and status
    /// flags, but is closed on its own.
    /// </summary>
    /// <exception cref="IpcException">EMFILE when this process's descriptor table is full; EBADF.</exception>
    public static SafeFdHandle Duplicate(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return new SafeFdHandle(Check(IpcNative.Dup(handle), "fcntl(F_DUPFD_CLOEXEC)", null, handle));
    }

    /// <summary>
    /// Reads up to <paramref name="buffer"/>.Length bytes. Returns the count, 0 at end of file (the
    /// writer closed) or when <paramref name="buffer"/> is empty.
    /// </summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and nothing is there; EBADF.</exception>
    public static int Read(SafeHandle handle, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Check(ReadRaw(handle, buffer), "read", null, handle);
    }

    /// <summary>Reads without throwing for the normal outcomes: bytes, <see cref="IoStatus.WouldBlock"/>, <see cref="IoStatus.EndOfStream"/> or <see cref="IoStatus.PeerClosed"/>; other failures throw.</summary>
    public static IoResult TryRead(SafeHandle handle, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return ToReadResult(ReadRaw(handle, buffer), buffer.Length, "read", null, handle);
    }

    /// <summary>Writes up to <paramref name="data"/>.Length bytes and returns how many were taken (possibly fewer).</summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and full; EPIPE when nobody reads any more.</exception>
    public static int Write(SafeHandle handle, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Check(WriteRaw(handle, data), "write", null, handle);
    }

    /// <summary>Writes without throwing for the normal outcomes: bytes, <see cref="IoStatus.WouldBlock"/> or <see cref="IoStatus.PeerClosed"/> (EPIPE); other failures throw.</summary>
    public static IoResult TryWrite(SafeHandle handle, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return ToWriteResult(WriteRaw(handle, data), "write", null, handle);
    }

    /// <summary>
    /// Writes all of <paramref name="data"/>, looping over partial writes. Meant for blocking
    /// descriptors: on a non-blocking one it throws EAGAIN when full, after an unknown part was written.
    /// </summary>
    public static void WriteAll(SafeHandle handle, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(handle);
        WriteAll(handle, data, null);
    }

    /// <summary>Sets or clears O_NONBLOCK (shared by every descriptor of the same open file description).</summary>
    public static void SetNonBlocking(SafeHandle handle, bool nonBlocking)
    {
        ArgumentNullException.ThrowIfNull(handle);
        Check(IpcNative.SetNonBlocking(handle, nonBlocking ? 1 : 0), "fcntl(F_SETFL)", null, handle);
    }

    /// <summary>Whether O_NONBLOCK is set.</summary>
    public static bool IsNonBlocking(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Check(IpcNative.GetNonBlocking(handle), "fcntl(F_GETFL)", null, handle) != 0;
    }

    /// <summary>Whether FD_CLOEXEC is set; every descriptor IpcCore creates or receives has it.</summary>
    public static bool IsCloseOnExec(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Check(IpcNative.GetCloseOnExec(handle), "fcntl(F_GETFD)", null, handle) != 0;
    }

    /// <summary>fstat(2): size, mode (type and permission bits), owner and whether it is a FIFO.</summary>
    public static unsafe FileStatus GetStatus(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        FileStatus status;
        Check(IpcNative.FStat(handle, &status), "fstat", null, handle);
        return status;
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: forever, 0: just look) until <paramref name="handle"/>
    /// is ready for one of <paramref name="events"/>. Returns the ready events (POLLHUP, POLLERR and
    /// POLLNVAL are reported even when not asked for), or 0 on timeout.
    /// </summary>
    public static PollEvents Poll(SafeHandle handle, PollEvents events, int timeoutMs)
    {
        ArgumentNullException.ThrowIfNull(handle);
        Span<PollEvents> ready = stackalloc PollEvents[1];
        Poll([handle], [events], ready, timeoutMs);
        return ready[0];
    }

    /// <summary>
    /// poll(2) over a few handles: waits up to <paramref name="timeoutMs"/> (-1: forever) until one is
    /// ready for its <paramref name="events"/> entry. Writes each handle's ready events to
    /// <paramref name="readyEvents"/> (0 when not ready) and returns how many are ready (0 on timeout).
    /// Each handle is kept alive for the call, so none can be closed and its number reused meanwhile.
    /// </summary>
    public static unsafe int Poll(ReadOnlySpan<SafeHandle> handles, ReadOnlySpan<PollEvents> events, Span<PollEvents> readyEvents, int timeoutMs)
    {
        if (events.Length != handles.Length)
        {
            throw new ArgumentException($"One events entry per handle is needed ({handles.Length} handles, {events.Length} entries).", nameof(events));
        }
        if (readyEvents.Length < handles.Length)
        {
            throw new ArgumentException($"readyEvents needs room for {handles.Length} entries (got {readyEvents.Length}).", nameof(readyEvents));
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThan(handles.Length, MaxPollHandles, nameof(handles));
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, -1);
        foreach (SafeHandle h in handles)
        {
            ArgumentNullException.ThrowIfNull(h, nameof(handles));
        }

        PollFd* fds = stackalloc PollFd[MaxPollHandles];
        int referenced = 0;
        try
        {
            for (int i = 0; i < handles.Length; i++)
            {
                bool added = false;
                handles[i].DangerousAddRef(ref added);
                referenced++;
                fds[i] = new PollFd { Fd = (int)handles[i].DangerousGetHandle(), Events = (short)events[i], Revents = 0 };
            }
            int result = IpcNative.Poll(fds, handles.Length, timeoutMs);
            if (result < 0)
            {
                IpcError.Throw(result, "poll", handles.Length == 1 ? Describe(handles[0]) : null);
            }
            for (int i = 0; i < handles.Length; i++)
            {
                // revents is a short; the bits live in the low 16 (no sign extension).
                readyEvents[i] = (PollEvents)(ushort)fds[i].Revents;
            }
            return result;
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                handles[i].DangerousRelease();
            }
        }
    }

    internal static unsafe int ReadRaw(SafeHandle handle, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return IpcNative.Read(handle, p, buffer.Length);
        }
    }

    internal static unsafe int WriteRaw(SafeHandle handle, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return IpcNative.Write(handle, p, data.Length);
        }
    }

    /// <summary>write(2) on a pipe or FIFO: one system call (<see cref="WriteRaw"/> tries send(2) first).</summary>
    internal static unsafe int WritePipeRaw(SafeHandle handle, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return IpcNative.WritePipe(handle, p, data.Length);
        }
    }

    internal static void WriteAll(SafeHandle handle, ReadOnlySpan<byte> data, string? objectName)
    {
        while (!data.IsEmpty)
        {
            int written = Check(WriteRaw(handle, data), "write", objectName, handle);
            if (written == 0)
            {
                // write(2) never takes 0 bytes of a non-empty buffer; do not spin if it ever does.
                ThrowFor(-(int)Errno.EIO, "write", objectName, handle);
            }
            data = data[written..];
        }
    }

    /// <summary>Maps a read(2)/recvmsg(2) result: bytes, EAGAIN, 0 for a non-empty buffer = end of stream, ECONNRESET; other errors throw.</summary>
    internal static IoResult ToReadResult(int result, int requested, string operation, string? objectName, SafeHandle handle)
    {
        if (result > 0 || (result == 0 && requested == 0))
        {
            return IoResult.Transferred(result);
        }
        return result switch
        {
            0 => IoResult.Ended,
            -(int)Errno.EAGAIN => IoResult.Blocked,
            -(int)Errno.ECONNRESET => IoResult.Closed,
            _ => ThrowFor<IoResult>(result, operation, objectName, handle),
        };
    }

    /// <summary>Maps a write(2)/sendmsg(2) result: bytes, EAGAIN, EPIPE/ECONNRESET; other errors throw.</summary>
    internal static IoResult ToWriteResult(int result, string operation, string? objectName, SafeHandle handle)
    {
        if (result >= 0)
        {
            return IoResult.Transferred(result);
        }
        return result switch
        {
            -(int)Errno.EAGAIN => IoResult.Blocked,
            -(int)Errno.EPIPE or -(int)Errno.ECONNRESET => IoResult.Closed,
            _ => ThrowFor<IoResult>(result, operation, objectName, handle),
        };
    }

    /// <summary>Like <see cref="IpcError.Check"/>, but names the object only on failure, so the success path builds no string.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Check(int result, string operation, string? objectName, SafeHandle handle)
    {
        if (result < 0)
        {
            ThrowFor(result, operation, objectName, handle);
        }
        return result;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowFor(int negativeErrno, string operation, string? objectName, SafeHandle handle)
        => IpcError.Throw(negativeErrno, operation, objectName ?? Describe(handle));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T ThrowFor<T>(int negativeErrno, string operation, string? objectName, SafeHandle handle)
        => throw IpcError.Create(negativeErrno, operation, objectName ?? Describe(handle));

    /// <summary>"fd 7", the object name of a descriptor without a path.</summary>
    internal static string Describe(SafeHandle handle)
        => handle is SafeFdHandle fd ? fd.ToString() : string.Create(CultureInfo.InvariantCulture, $"fd {(int)handle.DangerousGetHandle()}");
}
