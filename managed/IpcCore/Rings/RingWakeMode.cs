using IpcCore.Native;

namespace IpcCore.Rings;

/// <summary>How the waiting side of a ring sleeps when spinning found nothing (the header's wakeMode).</summary>
public enum RingWakeMode
{
    /// <summary>On the header's dataSignal / spaceSignal words as shared futexes.</summary>
    Futex = (int)RingWake.RING_WAKE_FUTEX,

    /// <summary>On two named POSIX semaphores (<see cref="RingSemaphoreNames"/>).</summary>
    Semaphore = (int)RingWake.RING_WAKE_SEMAPHORE,
}

/// <summary>The outcome of <see cref="RingConsumer.WaitForData"/> and <see cref="RingProducer.WaitForSpace"/>.</summary>
public enum RingWaitResult
{
    /// <summary>Data (or space) is available now.</summary>
    Ready,

    /// <summary>The deadline passed first; the peer still seemed alive (or had not attached).</summary>
    TimedOut,

    /// <summary>The peer process no longer exists; nothing more will arrive (or be freed).</summary>
    PeerGone,
}

/// <summary>
/// The two named semaphores of a <see cref="RingWakeMode.Semaphore"/> ring: the consumer sleeps on
/// <paramref name="Data"/>, the producer on <paramref name="Space"/>. The ring's creator creates them and
/// unlinks them when it is disposed; attachers open them by the same names.
/// </summary>
public sealed record RingSemaphoreNames(string Data, string Space);
