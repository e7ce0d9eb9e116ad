using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// A POSIX named semaphore (sem_overview(7)): a counter shared by name between processes, lives in
/// /dev/shm as <c>sem.&lt;name&gt;</c> until <see cref="Unlink"/> removes it. Waiting and posting
/// allocate nothing.
/// </summary>
public sealed class NamedSemaphore : IDisposable
{
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly SafeSemaphoreHandle _handle;

    private NamedSemaphore(SafeSemaphoreHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    /// <summary>The semaphore's name, e.g. <c>/ipchub.lock</c>.</summary>
    public string Name { get; }

    /// <summary>The sem_t* mapping; closing it does not remove the semaphore.</summary>
    public SafeSemaphoreHandle Handle => _handle;

    /// <summary>The current count (sem_getvalue(3)); stale as soon as it is read.</summary>
    public unsafe int Value
    {
        get
        {
            bool added = false;
            try
            {
                void* sem = AddRef(ref added);
                return IpcError.Check(IpcNative.SemGetValue(sem), "sem_getvalue", Name);
            }
            finally
            {
                if (added)
                {
                    _handle.DangerousRelease();
                }
            }
        }
    }

    /// <summary>Creates the semaphore <paramref name="name"/> with the count <paramref name="initialValue"/> and opens it.</summary>
    /// <param name="mode">The permission bits, applied exactly (the umask is not applied).</param>
    /// <param name="exclusive">Fail with EEXIST if it exists; when false an existing semaphore is opened and keeps its count.</param>
    /// <exception cref="IpcException">EEXIST; EACCES; EINVAL when <paramref name="initialValue"/> exceeds SEM_VALUE_MAX.</exception>
    public static NamedSemaphore Create(string name, uint initialValue = 0, UnixFileMode mode = DefaultMode, bool exclusive = true)
    {
        PosixName.Validate(name, nameof(name));
        int flags = (int)OpenFlags.O_CREAT | (exclusive ? (int)OpenFlags.O_EXCL : 0);
        return OpenCore(name, flags, (int)mode, initialValue);
    }

    /// <summary>Opens the existing semaphore <paramref name="name"/>.</summary>
    /// <exception cref="IpcException">ENOENT when there is no such semaphore; EACCES.</exception>
    public static NamedSemaphore Open(string name)
    {
        PosixName.Validate(name, nameof(name));
        return OpenCore(name, 0, 0, 0);
    }

    /// <summary>Removes the name <paramref name="name"/>; the semaphore lives on until every process has closed it.</summary>
    /// <exception cref="IpcException">ENOENT when there is no such semaphore.</exception>
    public static void Unlink(string name)
    {
        PosixName.Validate(name, nameof(name));
        IpcError.Check(IpcNative.SemUnlink(name), "sem_unlink", name);
    }

    /// <summary>Removes the name <paramref name="name"/>; false when it did not exist (any other failure throws).</summary>
    public static bool TryUnlink(string name)
    {
        PosixName.Validate(name, nameof(name));
        int result = IpcNative.SemUnlink(name);
        if (result == -(int)Errno.ENOENT)
        {
            return false;
        }
        IpcError.Check(result, "sem_unlink", name);
        return true;
    }

    /// <summary>Waits until the count is positive and decrements it (sem_wait(3)).</summary>
    public unsafe void Wait()
    {
        bool added = false;
        try
        {
            void* sem = AddRef(ref added);
            IpcError.Check(IpcNative.SemWait(sem), "sem_wait", Name);
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> (<see cref="TimeSpan.Zero"/>: not at all,
    /// <see cref="Timeout.InfiniteTimeSpan"/>: forever) for a positive count and decrements it.
    /// Returns false when the timeout passed first.
    /// </summary>
    public bool Wait(TimeSpan timeout)
    {
        (long ns, int kind) = IpcTimeout.From(timeout);
        return TimedWait(ns, kind);
    }

    /// <summary>Waits until the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/> (see <see cref="MonotonicClock"/>); false when it passed first.</summary>
    public bool Wait(long deadlineNs)
    {
        (long ns, int kind) = IpcTimeout.At(deadlineNs);
        return TimedWait(ns, kind);
    }

    /// <summary>Decrements the count if it is positive now (sem_trywait(3)); false when it is zero.</summary>
    public unsafe bool TryWait()
    {
        bool added = false;
        try
        {
            void* sem = AddRef(ref added);
            int result = IpcNative.SemTryWait(sem);
            if (result == -(int)Errno.EAGAIN)
            {
                return false;
            }
            IpcError.Check(result, "sem_trywait", Name);
            return true;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>Increments the count, waking one waiter (sem_post(3)).</summary>
    /// <exception cref="IpcException">EOVERFLOW at SEM_VALUE_MAX.</exception>
    public unsafe void Post()
    {
        bool added = false;
        try
        {
            void* sem = AddRef(ref added);
            IpcError.Check(IpcNative.SemPost(sem), "sem_post", Name);
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>The same as <see cref="Post"/>, under the name <see cref="Semaphore"/> uses.</summary>
    public void Release() => Post();

    /// <summary>Closes this process's mapping of the semaphore; it remains until unlinked and closed everywhere.</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"sem {Name}";

    private unsafe bool TimedWait(long timeoutNs, int timeoutKind)
    {
        bool added = false;
        try
        {
            void* sem = AddRef(ref added);
            int result = IpcNative.SemTimedWait(sem, timeoutNs, timeoutKind);
            if (result == -(int)Errno.ETIMEDOUT)
            {
                return false;
            }
            IpcError.Check(result, "sem_clockwait", Name);
            return true;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    // The sem_t* is a raw pointer, not a marshalled SafeHandle parameter, so hold a reference for the
    // call ourselves: a concurrent Dispose then cannot sem_close the mapping under a waiter.
    private unsafe void* AddRef(ref bool added)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        _handle.DangerousAddRef(ref added);
        return (void*)_handle.DangerousGetHandle();
    }

    private static unsafe NamedSemaphore OpenCore(string name, int flags, int mode, uint value)
    {
        void* sem = null;
        IpcError.Check(IpcNative.SemOpen(name, flags, mode, value, &sem), "sem_open", name);
        return new NamedSemaphore(new SafeSemaphoreHandle(sem), name);
    }
}
