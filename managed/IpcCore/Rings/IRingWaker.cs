namespace IpcCore.Rings;

/// <summary>
/// Wakes the peer of a ring side that announced it sleeps (its <c>…Sleeping</c> flag was seen set after a
/// publish). The default is the ring's own wake mode (futex wake or sem_post on the signal word); a peer
/// that sleeps elsewhere, like the hub in epoll_wait, gets an <see cref="EventFdRingWaker"/>. Called only
/// when the flag is set, so a busy stream makes no system calls. Must not throw for a peer that is gone.
/// </summary>
public interface IRingWaker
{
    void Wake();
}

/// <summary>Wakes the peer by writing 1 to an eventfd it polls (the hub's doorbell). One write(2) per wake.</summary>
public sealed class EventFdRingWaker : IRingWaker
{
    private readonly EventFd _eventFd;

    public EventFdRingWaker(EventFd eventFd)
    {
        ArgumentNullException.ThrowIfNull(eventFd);
        _eventFd = eventFd;
    }

    public void Wake()
    {
        try
        {
            // A full counter (non-blocking eventfd) already means "wake up"; a closed one is a shutdown race.
            _eventFd.TrySignal();
        }
        catch (IpcException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
