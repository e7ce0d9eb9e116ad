using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore.Hub;

/// <summary>Something registered with the <see cref="EventLoop"/>: told which events its handle has.</summary>
internal interface IPollHandler
{
    /// <summary>Handles <paramref name="events"/> of the handle registered with <paramref name="tag"/>.</summary>
    void OnPollEvents(PollEvents events, int tag);
}

/// <summary>
/// The hub's epoll set plus a table of handlers. A registration's epoll data is its slot index and a
/// generation number, so an event that was already collected for a handle that is unregistered (and its
/// slot reused) during the same batch is recognised and dropped. Level-triggered throughout: a handler
/// that stops early (fairness budget, stalled publisher) is simply called again on the next wait.
/// Single-threaded except for <see cref="Wake"/>; nothing here allocates after start-up (the tables grow
/// only when more handles are registered than ever before).
/// </summary>
internal sealed class EventLoop : IDisposable
{
    private const int MaxEventsPerWait = 256;

    private readonly EpollSet _epoll;
    private readonly EventFd _wakeup;
    private readonly EpollEvent[] _events = new EpollEvent[MaxEventsPerWait];
    private IPollHandler?[] _handlers = new IPollHandler?[64];
    private int[] _tags = new int[64];
    private uint[] _generations = new uint[64];
    private int[] _free = new int[64];
    private int _freeCount;
    private int _used;
    private readonly WakeHandler _wakeHandler;

    public EventLoop()
    {
        _epoll = EpollSet.Create();
        try
        {
            _wakeup = EventFd.Create(nonBlocking: true);
            _wakeHandler = new WakeHandler(_wakeup);
            Register(_wakeup.Handle, PollEvents.POLLIN, _wakeHandler, 0);
        }
        catch
        {
            _wakeup?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    /// <summary>Registrations currently in the set (the wake-up eventfd included).</summary>
    public int RegisteredCount => _used - _freeCount;

    /// <summary>Registers <paramref name="handle"/>; returns the token for <see cref="Modify"/> and <see cref="Unregister"/>.</summary>
    public long Register(SafeHandle handle, PollEvents events, IPollHandler handler, int tag)
    {
        int slot = _freeCount > 0 ? _free[--_freeCount] : NewSlot();
        uint generation = unchecked(_generations[slot] + 1);
        try
        {
            _epoll.Add(handle, events, Data(slot, generation));
        }
        catch
        {
            _free[_freeCount++] = slot;
            throw;
        }
        _generations[slot] = generation;
        _handlers[slot] = handler;
        _tags[slot] = tag;
        return (long)Data(slot, generation);
    }

    /// <summary>Changes the events a registration waits for.</summary>
    public void Modify(long token, SafeHandle handle, PollEvents events) => _epoll.Modify(handle, events, (ulong)token);

    /// <summary>
    /// Removes a registration. <paramref name="handle"/> may already be closed (closing removed it from the
    /// set); then only the slot is released.
    /// </summary>
    public void Unregister(long token, SafeHandle handle)
    {
        int slot = (int)(token & 0xffffffff);
        if (_handlers[slot] is null || _generations[slot] != (uint)((ulong)token >> 32))
        {
            return;
        }
        if (!handle.IsClosed)
        {
            try
            {
                _epoll.Remove(handle);
            }
            catch (IpcException)
            {
                // Already gone from the set (e.g. the descriptor was closed by a duplicate's owner).
            }
        }
        _handlers[slot] = null;
        _free[_freeCount++] = slot;
    }

    /// <summary>Wakes <see cref="WaitAndDispatch"/> from any thread.</summary>
    public void Wake()
    {
        try
        {
            _wakeup.TrySignal();
        }
        catch (ObjectDisposedException)
        {
            // The loop is gone already.
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: until something happens) and dispatches every ready
    /// registration to its handler. Returns the number of events.
    /// </summary>
    public int WaitAndDispatch(int timeoutMs)
    {
        int count = _epoll.Wait(_events, timeoutMs);
        for (int i = 0; i < count; i++)
        {
            ref EpollEvent e = ref _events[i];
            int slot = (int)(e.Data & 0xffffffff);
            IPollHandler? handler = _handlers[slot];
            if (handler is null || _generations[slot] != (uint)(e.Data >> 32))
            {
                continue; // unregistered earlier in this batch
            }
            handler.OnPollEvents((PollEvents)e.Events, _tags[slot]);
        }
        return count;
    }

    public void Dispose()
    {
        _wakeup.Dispose();
        _epoll.Dispose();
    }

    private static ulong Data(int slot, uint generation) => ((ulong)generation << 32) | (uint)slot;

    private int NewSlot()
    {
        if (_used == _handlers.Length)
        {
            int size = _handlers.Length * 2;
            Array.Resize(ref _handlers, size);
            Array.Resize(ref _tags, size);
            Array.Resize(ref _generations, size);
            Array.Resize(ref _free, size);
        }
        return _used++;
    }

    /// <summary>Drains the wake-up eventfd; the loop checks its flags after every batch anyway.</summary>
    private sealed class WakeHandler(EventFd wakeup) : IPollHandler
    {
        public void OnPollEvents(PollEvents events, int tag) => wakeup.TryRead(out _);
    }
}
