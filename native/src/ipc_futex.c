// ipc_futex.c - shared futex wait and wake.

#include "ipc_common.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

// No FUTEX_PRIVATE_FLAG anywhere: the words live in MAP_SHARED mappings and the waiters and wakers
// are different processes. FUTEX_WAIT_BITSET (unlike FUTEX_WAIT) takes an absolute deadline, on
// CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME is given, which is exactly the ABI's clock.

int32_t IpcNative_FutexWait(uint32_t* addr, uint32_t expected, int64_t timeoutNs, int32_t timeoutKind)
{
    if (addr == NULL)
        return -EINVAL;
    int64_t deadline;
    int infinite;
    int32_t err = ipc_monotonic_deadline(timeoutNs, timeoutKind, &deadline, &infinite);
    if (err < 0)
        return err;
    struct timespec abs = ipc_ns_to_timespec(deadline);
    // A relative 0 becomes "now": the kernel compares the word (-EAGAIN) and then times out at once.
    // EINTR is returned, not retried: the caller re-checks its word first.
    long result = syscall(SYS_futex, addr, FUTEX_WAIT_BITSET, expected, infinite ? NULL : &abs, NULL,
                          FUTEX_BITSET_MATCH_ANY);
    return result < 0 ? ipc_neg_errno() : 0;
}

int32_t IpcNative_FutexWake(uint32_t* addr, int32_t count)
{
    if (addr == NULL || count < 0)
        return -EINVAL;
    // The kernel wakes one waiter even for a count of 0; "up to 0" means none.
    if (count == 0)
        return 0;
    long result = syscall(SYS_futex, addr, FUTEX_WAKE, count, NULL, NULL, 0);
    return result < 0 ? ipc_neg_errno() : (int32_t)result;
}
