// ipc_spawn.c - child processes (posix_spawn, pidfd, waitpid, process groups) and resource limits.

#include "ipc_common.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

c_static_assert(sizeof(pid_t) == sizeof(int32_t));
// Limits cross the ABI as int64_t with -1 for RLIM_INFINITY, which is all ones.
c_static_assert(sizeof(rlim_t) == sizeof(int64_t));
c_static_assert(RLIM_INFINITY == (rlim_t)-1);
c_static_assert(IPC_SPAWN_NONE == 0);
c_static_assert(IPC_SPAWN_NEW_PROCESS_GROUP == 1);
c_static_assert(IPC_RLIMIT_NOFILE == 1);
c_static_assert(IPC_RLIMIT_MSGQUEUE == 2);

#define IPC_SPAWN_FLAGS_KNOWN (IPC_SPAWN_NEW_PROCESS_GROUP)
#define IPC_STDIO_COUNT 3

// Checks that fd is an open descriptor, so a bad one is -EBADF from the parent rather than a
// child that fails after the fork (which posix_spawn cannot always report, e.g. under valgrind).
static int32_t ipc_check_open_fd(int fd)
{
    return fcntl(fd, F_GETFD) < 0 ? ipc_neg_errno() : 0;
}

// Every signal, for POSIX_SPAWN_SETSIGDEF. glibc keeps two real-time signals for itself (32 and 33,
// SIGCANCEL and SIGSETXID): sigfillset leaves them out, sigaddset refuses them, and posix_spawn
// (glibc 2.36) then sets them to SIG_IGN in the child, which exec keeps. So every signal that
// sigismember does not report goes into the set directly, in the layout glibc and the kernel share
// (signal n is bit n - 1), and the child resets those to SIG_DFL as well.
static void ipc_fill_every_signal(sigset_t* set)
{
    sigfillset(set);
    unsigned long words[sizeof(sigset_t) / sizeof(unsigned long)];
    memcpy(words, set, sizeof(words));
    const size_t wordBits = 8 * sizeof(unsigned long);
    for (int sig = 1; sig < _NSIG; sig++)
    {
        if (sigismember(set, sig) != 1)
        {
            size_t bit = (size_t)(sig - 1);
            words[bit / wordBits] |= 1UL << (bit % wordBits);
        }
    }
    memcpy(set, words, sizeof(words));
}

// Fills the file actions (sources[i] >= 0 is dup2'd onto i) and the attributes of a spawn.
// Returns 0 or an error number.
static int ipc_spawn_configure(posix_spawn_file_actions_t* actions, posix_spawnattr_t* attr, const int* sources, int32_t flags)
{
    for (int i = 0; i < IPC_STDIO_COUNT; i++)
    {
        if (sources[i] >= 0)
        {
            int err = posix_spawn_file_actions_adddup2(actions, sources[i], i);
            if (err != 0)
                return err;
        }
    }

    // The .NET runtime handles, ignores (SIGPIPE) and blocks signals of its own; the child must start
    // clean: an empty mask, and every signal at SIG_DFL (an ignored one would stay ignored across exec).
    sigset_t emptyMask;
    sigset_t everySignal;
    sigemptyset(&emptyMask);
    ipc_fill_every_signal(&everySignal);
    int err = posix_spawnattr_setsigmask(attr, &emptyMask);
    if (err == 0)
        err = posix_spawnattr_setsigdefault(attr, &everySignal);
    int attrFlags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (err == 0 && (flags & IPC_SPAWN_NEW_PROCESS_GROUP) != 0)
    {
        // setpgid(0, 0) in the child: a group of its own whose id is its pid.
        err = posix_spawnattr_setpgroup(attr, 0);
        attrFlags |= POSIX_SPAWN_SETPGROUP;
    }
    if (err == 0)
        err = posix_spawnattr_setflags(attr, (short)attrFlags);
    return err;
}

// posix_spawn of "/bin/sh -c command". Returns 0 or an error number (posix_spawn returns it; it
// does not set errno).
static int ipc_spawn_shell(const char* command, const int* sources, int32_t flags, pid_t* child)
{
    posix_spawn_file_actions_t actions;
    int err = posix_spawn_file_actions_init(&actions);
    if (err != 0)
        return err;
    posix_spawnattr_t attr;
    err = posix_spawnattr_init(&attr);
    if (err != 0)
    {
        posix_spawn_file_actions_destroy(&actions);
        return err;
    }
    err = ipc_spawn_configure(&actions, &attr, sources, flags);
    if (err == 0)
    {
        char arg0[] = "sh";
        char arg1[] = "-c";
        char* const argv[] = { arg0, arg1, (char*)command, NULL };
        err = posix_spawn(child, "/bin/sh", &actions, &attr, argv, environ);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return err;
}

int32_t IpcNative_SpawnShell(const char* command, int32_t stdinFd, int32_t stdoutFd, int32_t stderrFd, int32_t flags, int32_t* pid)
{
    if (command == NULL || pid == NULL || (flags & ~IPC_SPAWN_FLAGS_KNOWN) != 0)
        return -EINVAL;
    int sources[IPC_STDIO_COUNT] = { stdinFd, stdoutFd, stderrFd };
    for (int i = 0; i < IPC_STDIO_COUNT; i++)
    {
        if (sources[i] < -1)
            return -EINVAL;
        if (sources[i] >= 0)
        {
            int32_t err = ipc_check_open_fd(sources[i]);
            if (err < 0)
                return err;
        }
    }

    // The child applies the dup2s in order 0, 1, 2, so a source that is itself 0..2 could be
    // overwritten by an earlier one (stdin 1 and stdout 0), and dup2(fd, fd) would keep its
    // FD_CLOEXEC. Such sources go through a close-on-exec copy at 3 or above: dup2 of the copy
    // onto the target always makes a fresh, inheritable descriptor. Nothing of the parent's
    // descriptors or flags changes; the copies are closed again below.
    int copies[IPC_STDIO_COUNT] = { -1, -1, -1 };
    int32_t result = 0;
    for (int i = 0; i < IPC_STDIO_COUNT && result == 0; i++)
    {
        if (sources[i] >= 0 && sources[i] < IPC_STDIO_COUNT)
        {
            copies[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, IPC_STDIO_COUNT);
            if (copies[i] < 0)
                result = ipc_neg_errno();
            else
                sources[i] = copies[i];
        }
    }

    if (result == 0)
    {
        pid_t child = 0;
        int err = ipc_spawn_shell(command, sources, flags, &child);
        if (err == 0)
            *pid = child;
        else
            result = -err;
    }

    for (int i = 0; i < IPC_STDIO_COUNT; i++)
    {
        if (copies[i] >= 0)
            close(copies[i]);
    }
    return result;
}

int32_t IpcNative_PidfdOpen(int32_t pid)
{
    if (pid <= 0)
        return -EINVAL;
    // Through syscall(2): the glibc wrapper is newer than some of the systems this builds on.
    // pidfd_open always sets close-on-exec on the new descriptor.
    long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0u);
    return fd < 0 ? ipc_neg_errno() : (int32_t)fd;
}

int32_t IpcNative_WaitPid(int32_t pid, int32_t noHang, int32_t* exitCode, int32_t* termSignal)
{
    if (pid <= 0)
        return -EINVAL;
    int status = 0;
    pid_t reaped;
    IPC_RETRY_EINTR(reaped, waitpid(pid, &status, noHang != 0 ? WNOHANG : 0));
    if (reaped < 0)
        return ipc_neg_errno();
    if (reaped == 0)
        return 0;
    // Without WUNTRACED or WCONTINUED waitpid reports only termination: exited or signalled.
    int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int32_t killedBy = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (exitCode != NULL)
        *exitCode = code;
    if (termSignal != NULL)
        *termSignal = killedBy;
    return reaped;
}

int32_t IpcNative_KillProcessGroup(int32_t pgid, int32_t signal)
{
    // kill(0) is our own group, kill(-1) every process we may signal, and signalling our own
    // group would hit the caller: none of that is "the group of a child".
    if (pgid <= 1 || pgid == getpgrp())
        return -EINVAL;
    if (kill(-pgid, signal) < 0)
        return ipc_neg_errno();
    return 0;
}

// The Linux resource of an IPC_RLIMIT_* value, or -1 if unknown.
static int ipc_rlimit_resource(int32_t resource)
{
    switch (resource)
    {
        case IPC_RLIMIT_NOFILE:
            return RLIMIT_NOFILE;
        case IPC_RLIMIT_MSGQUEUE:
            return RLIMIT_MSGQUEUE;
        default:
            return -1;
    }
}

static int64_t ipc_from_rlim(rlim_t value)
{
    if (value == RLIM_INFINITY)
        return -1;
    return value > (rlim_t)INT64_MAX ? INT64_MAX : (int64_t)value;
}

static int32_t ipc_to_rlim(int64_t value, rlim_t* out)
{
    if (value == -1)
        *out = RLIM_INFINITY;
    else if (value < 0)
        return -EINVAL;
    else
        *out = (rlim_t)value;
    return 0;
}

int32_t IpcNative_GetResourceLimit(int32_t resource, int64_t* soft, int64_t* hard)
{
    int native = ipc_rlimit_resource(resource);
    if (native < 0 || soft == NULL || hard == NULL)
        return -EINVAL;
    struct rlimit limit;
    if (getrlimit((__rlimit_resource_t)native, &limit) < 0)
        return ipc_neg_errno();
    *soft = ipc_from_rlim(limit.rlim_cur);
    *hard = ipc_from_rlim(limit.rlim_max);
    return 0;
}

int32_t IpcNative_SetResourceLimit(int32_t resource, int64_t soft, int64_t hard)
{
    int native = ipc_rlimit_resource(resource);
    if (native < 0)
        return -EINVAL;
    struct rlimit limit;
    if (ipc_to_rlim(soft, &limit.rlim_cur) < 0 || ipc_to_rlim(hard, &limit.rlim_max) < 0)
        return -EINVAL;
    if (setrlimit((__rlimit_resource_t)native, &limit) < 0)
        return ipc_neg_errno();
    return 0;
}
