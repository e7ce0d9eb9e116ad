// ipc_time.c - the clocks behind (timeoutNs, timeoutKind) deadlines.

#include "ipc_common.h"

c_static_assert(IPC_TIMEOUT_INFINITE == 0);
c_static_assert(IPC_TIMEOUT_RELATIVE == 1);
c_static_assert(IPC_TIMEOUT_ABSOLUTE == 2);
// Nanosecond clocks fit int64 for the next 292 years; timespec arithmetic relies on 64-bit time_t.
c_static_assert(sizeof(time_t) == sizeof(int64_t));

int64_t IpcNative_ClockMonotonicNs(void)
{
    return ipc_clock_ns(CLOCK_MONOTONIC);
}

int64_t IpcNative_ClockRealtimeNs(void)
{
    return ipc_clock_ns(CLOCK_REALTIME);
}
