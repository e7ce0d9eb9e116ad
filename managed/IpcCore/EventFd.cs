using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// An eventfd(2): a 64-bit kernel counter behind a descriptor, the cheapest way to wake a thread or
/// process that waits in poll/epoll. <see cref="Signal"/> adds to the counter; a read returns it and
/// resets it to 0 (or, in semaphore mode, returns 1 and decrements it). Reading waits while it is 0.
/// </summary>
public sealed class EventFd : IDisposable
{
    /// <summary>The largest counter value (2^64 - 2); a signal that would pass it waits or fails with EAGAIN.</summary>
    public const ulong MaxValue = ulong.MaxValue - 1;

    private readonly SafeFdHandle _handle;

    private EventFd(SafeFdHandle handle, bool semaphore)
    {
        _handle = handle;
        IsSemaphore = semaphore;
    }

    /// <summary>The descriptor: readable while the counter is above 0, writable while it can take 1 more.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>Whether each read takes 1 from the counter (EFD_SEMAPHORE) rather than all of it.</summary>
    public bool IsSemaphore { get; }

    /// <summary>Creates an eventfd (close-on-exec) whose counter starts at <paramref name="initialValue"/>.</summary>
    /// <param name="semaphore">Each read returns 1 and decrements the counter, instead of returning and zeroing it.</param>
    /// <param name="nonBlocking">Reads of a zero counter and signals that would overflow fail with EAGAIN instead of waiting.</param>
    public static EventFd Create(uint initialValue = 0, bool semaphore = false, bool nonBlocking = false)
    {
        int flags = (semaphore ? (int)EventfdFlags.EFD_SEMAPHORE : 0) | (nonBlocking ? (int)EventfdFlags.EFD_NONBLOCK : 0);
        int fd = IpcError.Check(IpcNative.EventFd(initialValue, flags), "eventfd");
        return new EventFd(new SafeFdHandle(fd), semaphore);
    }

    /// <summary>Wraps an eventfd descriptor received from another process (SCM_RIGHTS); takes ownership of it.</summary>
    public static EventFd FromHandle(SafeFdHandle handle, bool semaphore = false)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return new EventFd(handle, semaphore);
    }

    /// <summary>Adds <paramref name="value"/> (1 to <see cref="MaxValue"/>) to the counter, waking readers.</summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and the counter would pass <see cref="MaxValue"/>.</exception>
    public void Signal(ulong value = 1)
    {
        ValidateValue(value);
        ThrowIfDisposed();
        FileDescriptor.Check(IpcNative.EventFdWrite(_handle, value), "write", null, _handle);
    }

    /// <summary>Adds <paramref name="value"/> to the counter; false when it would overflow and the eventfd is non-blocking.</summary>
    public bool TrySignal(ulong value = 1)
    {
        ValidateValue(value);
        ThrowIfDisposed();
        int result = IpcNative.EventFdWrite(_handle, value);
        if (result == -(int)Errno.EAGAIN)
        {
            return false;
        }
        FileDescriptor.Check(result, "write", null, _handle);
        return true;
    }

    /// <summary>Takes the counter (or 1 of it, in semaphore mode), waiting while it is 0.</summary>
    /// <exception cref="IpcException">EAGAIN when non-blocking and the counter is 0.</exception>
    public unsafe ulong Read()
    {
        ThrowIfDisposed();
        ulong value;
        FileDescriptor.Check(IpcNative.EventFdRead(_handle, &value), "read", null, _handle);
        return value;
    }

    /// <summary>Takes the counter if it is above 0; false when it is 0 and the eventfd is non-blocking (EAGAIN).</summary>
    public unsafe bool TryRead(out ulong value)
    {
        ThrowIfDisposed();
        ulong v = 0;
        int result = IpcNative.EventFdRead(_handle, &v);
        if (result == -(int)Errno.EAGAIN)
        {
            value = 0;
            return false;
        }
        FileDescriptor.Check(result, "read", null, _handle);
        value = v;
        return true;
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"eventfd ({_handle})";

    private static void ValidateValue(ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfZero(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
}
