using IpcCore.Native;

namespace IpcCore;

/// <summary>CLOCK_MONOTONIC, the clock of every absolute deadline in the shim and of one-way latency stamps.</summary>
public static class MonotonicClock
{
    /// <summary>Now, in nanoseconds since an arbitrary fixed point (boot).</summary>
    public static long NowNs => IpcNative.ClockMonotonicNs();
}
