using IpcCore.Native;

namespace IpcCore;

/// <summary>Converts a managed timeout into the shim's (timeoutNs, timeoutKind) pair.</summary>
internal static class IpcTimeout
{
    /// <summary>
    /// null or <see cref="Timeout.InfiniteTimeSpan"/>: wait forever; <see cref="TimeSpan.Zero"/>: poll once;
    /// anything else: relative to now. Negative values other than infinite are rejected.
    /// </summary>
    public static (long Ns, int Kind) From(TimeSpan? timeout)
    {
        if (timeout is null || timeout.Value == Timeout.InfiniteTimeSpan)
        {
            return (0, (int)TimeoutKind.TIMEOUT_INFINITE);
        }
        TimeSpan t = timeout.Value;
        ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(timeout));
        return (t.Ticks * 100, (int)TimeoutKind.TIMEOUT_RELATIVE);
    }

    /// <summary>An absolute CLOCK_MONOTONIC deadline (see <see cref="MonotonicClock"/>).</summary>
    public static (long Ns, int Kind) At(long deadlineMonotonicNs)
        => (deadlineMonotonicNs, (int)TimeoutKind.TIMEOUT_ABSOLUTE);
}
