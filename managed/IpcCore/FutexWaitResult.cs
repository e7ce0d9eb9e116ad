namespace IpcCore;

/// <summary>How a <see cref="Futex"/> wait ended. None of these is an error; every one means "re-check the word".</summary>
public enum FutexWaitResult
{
    /// <summary>A wake arrived (or, rarely, a spurious wake-up: the word may still hold the expected value).</summary>
    Woken = 0,

    /// <summary>The word did not hold the expected value, so the wait never started (EAGAIN).</summary>
    ValueChanged = 1,

    /// <summary>The timeout or deadline passed (ETIMEDOUT).</summary>
    TimedOut = 2,

    /// <summary>A signal interrupted the wait (EINTR); the shim reports it rather than retrying.</summary>
    Interrupted = 3,
}
