using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// An epoll(7) interest set: register descriptors once with a 64-bit <c>data</c> value of your choice
/// (an index or id), then <see cref="Wait"/> returns the ready ones with their data. Waiting allocates
/// nothing; the caller owns the event buffer.
/// </summary>
/// <remarks>
/// The set refers to open file descriptions, not to the <see cref="SafeHandle"/>s: closing a descriptor
/// removes it from the set by itself (once no duplicate of it is left open), so remove it first only if
/// you need the removal to happen at a precise point.
/// </remarks>
public sealed class EpollSet : IDisposable
{
    private readonly SafeFdHandle _handle;

    private EpollSet(SafeFdHandle handle) => _handle = handle;

    /// <summary>The epoll descriptor (itself pollable, so sets can nest).</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>Creates an empty set (epoll_create1, close-on-exec).</summary>
    public static EpollSet Create()
    {
        int fd = IpcError.Check(IpcNative.EpollCreate(), "epoll_create1");
        return new EpollSet(new SafeFdHandle(fd));
    }

    /// <summary>
    /// Registers <paramref name="handle"/> for <paramref name="events"/> (POLLIN, POLLOUT, POLLRDHUP, EPOLLET
    /// ...; POLLERR and POLLHUP are always reported). <paramref name="data"/> comes back with each event.
    /// </summary>
    /// <exception cref="IpcException">EEXIST when already registered; EPERM for a regular file.</exception>
    public void Add(SafeHandle handle, PollEvents events, ulong data)
        => Control(EpollOp.EPOLL_CTL_ADD, "epoll_ctl(EPOLL_CTL_ADD)", handle, events, data);

    /// <summary>Changes the events and data of a registered handle.</summary>
    /// <exception cref="IpcException">ENOENT when it is not registered.</exception>
    public void Modify(SafeHandle handle, PollEvents events, ulong data)
        => Control(EpollOp.EPOLL_CTL_MOD, "epoll_ctl(EPOLL_CTL_MOD)", handle, events, data);

    /// <summary>Unregisters <paramref name="handle"/>.</summary>
    /// <exception cref="IpcException">ENOENT when it is not registered.</exception>
    public void Remove(SafeHandle handle)
        => Control(EpollOp.EPOLL_CTL_DEL, "epoll_ctl(EPOLL_CTL_DEL)", handle, 0, 0);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: forever, 0: just look) for registered handles to become
    /// ready and writes up to <paramref name="events"/>.Length of them. Returns how many (0 on timeout).
    /// A signal does not end the wait early: it resumes with the time that is left.
    /// </summary>
    public unsafe int Wait(Span<EpollEvent> events, int timeoutMs)
    {
        if (events.IsEmpty)
        {
            throw new ArgumentException("The event buffer needs room for at least one event.", nameof(events));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, -1);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);

        long deadlineNs = timeoutMs > 0 ? MonotonicClock.NowNs + (timeoutMs * 1_000_000L) : 0;
        fixed (EpollEvent* p = events)
        {
            while (true)
            {
                int result = IpcNative.EpollWait(_handle, p, events.Length, timeoutMs);
                if (result != -(int)Errno.EINTR)
                {
                    return FileDescriptor.Check(result, "epoll_wait", null, _handle);
                }
                if (timeoutMs > 0)
                {
                    // Round up so the retry does not turn a sub-millisecond remainder into a busy poll.
                    long leftNs = deadlineNs - MonotonicClock.NowNs;
                    if (leftNs <= 0)
                    {
                        return 0;
                    }
                    timeoutMs = (int)((leftNs + 999_999) / 1_000_000);
                }
            }
        }
    }

    /// <summary>Closes the set; the registered descriptors are unaffected.</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"epoll ({_handle})";

    private void Control(EpollOp op, string operation, SafeHandle handle, PollEvents events, ulong data)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        // epoll_ctl takes the target as a plain number: hold a reference so it cannot be closed and
        // its number reused by another descriptor during the call.
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int result = IpcNative.EpollCtl(_handle, (int)op, fd, (uint)events, data);
            if (result < 0)
            {
                IpcError.Throw(result, operation, FileDescriptor.Describe(handle));
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
