// ipc_common.h - helpers shared by the shim's source files; not part of the ABI.
#pragma once

#include "ipccore.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define c_static_assert(e) _Static_assert((e), #e)

// Runs expr until it fails with something other than EINTR. The result variable keeps the
// last return value; errno is only meaningful when it signals failure.
#define IPC_RETRY_EINTR(result, expr) \
    do \
    { \
        (result) = (expr); \
    } while ((result) < 0 && errno == EINTR)

#define IPC_NS_PER_SEC INT64_C(1000000000)
#define IPC_NS_PER_MS INT64_C(1000000)

// Every -errno the shim returns goes through here so a (theoretical) errno of 0 after a
// failed call still reads as a failure.
static inline int32_t ipc_neg_errno(void)
{
    return errno != 0 ? -errno : -EIO;
}

static inline int64_t ipc_clock_ns(clockid_t clock)
{
    struct timespec ts;
    // clock_gettime cannot fail for the clocks used here (MONOTONIC, REALTIME).
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * IPC_NS_PER_SEC + ts.tv_nsec;
}

static inline struct timespec ipc_ns_to_timespec(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / IPC_NS_PER_SEC);
    ts.tv_nsec = (long)(ns % IPC_NS_PER_SEC);
    return ts;
}

// a + b for non-negative b, saturating instead of overflowing.
static inline int64_t ipc_add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

// Validates (timeoutNs, timeoutKind) and turns it into an absolute CLOCK_MONOTONIC deadline.
// *infinite is set for IPC_TIMEOUT_INFINITE (then *deadlineNs is unused). Returns 0 or -EINVAL
// for an unknown kind or a negative timeout.
static inline int32_t ipc_monotonic_deadline(int64_t timeoutNs, int32_t timeoutKind, int64_t* deadlineNs, int* infinite)
{
    *infinite = 0;
    *deadlineNs = 0;
    switch (timeoutKind)
    {
        case IPC_TIMEOUT_INFINITE:
            *infinite = 1;
            return 0;
        case IPC_TIMEOUT_RELATIVE:
            if (timeoutNs < 0)
                return -EINVAL;
            *deadlineNs = ipc_add_sat(ipc_clock_ns(CLOCK_MONOTONIC), timeoutNs);
            return 0;
        case IPC_TIMEOUT_ABSOLUTE:
            if (timeoutNs < 0)
                return -EINVAL;
            *deadlineNs = timeoutNs;
            return 0;
        default:
            return -EINVAL;
    }
}

// The CLOCK_REALTIME absolute time that lies as far ahead as the monotonic deadline does now
// (for calls such as mq_timedsend that only take realtime deadlines). A deadline already
// passed maps to "now", which makes the call try once and time out.
static inline struct timespec ipc_realtime_from_monotonic(int64_t monotonicDeadlineNs)
{
    int64_t remaining = monotonicDeadlineNs - ipc_clock_ns(CLOCK_MONOTONIC);
    if (remaining < 0)
        remaining = 0;
    return ipc_ns_to_timespec(ipc_add_sat(ipc_clock_ns(CLOCK_REALTIME), remaining));
}

// Checks a POSIX IPC object name ("/name"): it starts with '/' and the part after it is at most
// IPC_NAME_MAX bytes. Returns 0, -EINVAL or -ENAMETOOLONG; libc and the kernel check the rest.
static inline int32_t ipc_check_object_name(const char* name)
{
    if (name == NULL || name[0] != '/')
        return -EINVAL;
    if (strlen(name + 1) > IPC_NAME_MAX)
        return -ENAMETOOLONG;
    return 0;
}
