// ipc_process.c - process identity and signals.

#include "ipc_common.h"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

c_static_assert(sizeof(pid_t) == sizeof(int32_t));
c_static_assert(sizeof(uid_t) == sizeof(uint32_t));

int32_t IpcNative_GetPid(void)
{
    return getpid();
}

int64_t IpcNative_GetEUid(void)
{
    // uid_t is unsigned 32-bit; widening keeps it non-negative.
    return (int64_t)geteuid();
}

int32_t IpcNative_Kill(int32_t pid, int32_t signal)
{
    // kill(0) and kill(-n) address process groups and kill(-1) every process we may signal:
    // none of that is "a process", so a stray 0 or negative pid is refused rather than obeyed.
    if (pid <= 0)
        return -EINVAL;
    if (kill(pid, signal) < 0)
        return ipc_neg_errno();
    return 0;
}
