// test_spawn.c - child processes (posix_spawn of /bin/sh -c, pidfd, waitpid, process groups)
// and resource limits.

#include "ipctest.h"

#include <sys/resource.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define WAIT_MS 30000

// Reads fd until end of stream (or size - 1 bytes) into buf as a C string, waiting at most
// WAIT_MS for each chunk. Returns the byte count, or -1 on a timeout or error.
static int read_to_end(int32_t fd, char* buf, size_t size)
{
    size_t total = 0;
    while (total < size - 1)
    {
        IpcPollFd entry = { fd, IPC_POLLIN, 0 };
        if (PASS(IpcNative_Poll(&entry, 1, WAIT_MS)) != 1)
        {
            fprintf(stderr, "read_to_end: nothing on fd %d within %d ms\n", (int)fd, WAIT_MS);
            buf[total] = '\0';
            return -1;
        }
        int32_t n = IpcNative_Read(fd, (uint8_t*)buf + total, (int32_t)(size - 1 - total));
        if (PASS(n) <= 0)
            break;
        total += (size_t)n;
    }
    buf[total] = '\0';
    return (int)total;
}

// Reaps pid (blocking) and returns its exit code; *signal gets the terminating signal.
static int32_t reap(int32_t pid, int32_t* signal)
{
    int32_t code = -100, sig = -100;
    CHECK_EQ(PASS(IpcNative_WaitPid(pid, 0, &code, &sig)), pid);
    if (signal != NULL)
        *signal = sig;
    return code;
}

static void test_echo_into_pipe(void)
{
    int32_t out[2];
    PASS(IpcNative_Pipe2(out, 0));
    int32_t pid = -1;
    CHECK_EQ(PASS(IpcNative_SpawnShell("echo hi", -1, out[1], -1, IPC_SPAWN_NONE, &pid)), 0);
    CHECK(pid > 0);
    PASS(IpcNative_Close(out[1]));

    char buf[64];
    CHECK_EQ(read_to_end(out[0], buf, sizeof(buf)), 3);
    CHECK_STR(buf, "hi\n");
    PASS(IpcNative_Close(out[0]));

    int32_t sig = -1;
    CHECK_EQ(reap(pid, &sig), 0);
    CHECK_EQ(sig, 0);
}

static void test_stdin_to_stdout_through_cat(void)
{
    int32_t in[2], out[2];
    PASS(IpcNative_Pipe2(in, 0));
    PASS(IpcNative_Pipe2(out, 0));
    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("cat", in[0], out[1], -1, IPC_SPAWN_NONE, &pid));
    PASS(IpcNative_Close(in[0]));
    PASS(IpcNative_Close(out[1]));

    const char message[] = "through cat\n";
    CHECK_EQ(PASS(IpcNative_Write(in[1], (const uint8_t*)message, (int32_t)strlen(message))), strlen(message));
    PASS(IpcNative_Close(in[1]));
    char buf[64];
    CHECK_EQ(read_to_end(out[0], buf, sizeof(buf)), strlen(message));
    CHECK_STR(buf, message);
    PASS(IpcNative_Close(out[0]));
    CHECK_EQ(reap(pid, NULL), 0);
}

static void test_exit_code(void)
{
    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("exit 3", -1, -1, -1, IPC_SPAWN_NONE, &pid));
    int32_t sig = -1;
    CHECK_EQ(reap(pid, &sig), 3);
    CHECK_EQ(sig, 0);
}

// The parent ignores and blocks SIGTERM; the child must not inherit either, so `kill -TERM $$`
// ends the shell (an ignored signal would survive exec and sh could not even trap it).
static void test_killed_by_signal_despite_parent_ignoring_and_blocking_it(void)
{
    struct sigaction ignore = { .sa_handler = SIG_IGN }, previousAction;
    sigset_t term, previousMask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaction(SIGTERM, &ignore, &previousAction);
    sigprocmask(SIG_BLOCK, &term, &previousMask);

    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("kill -TERM $$; exit 7", -1, -1, -1, IPC_SPAWN_NONE, &pid));

    sigprocmask(SIG_SETMASK, &previousMask, NULL);
    sigaction(SIGTERM, &previousAction, NULL);

    int32_t sig = -1;
    CHECK_EQ(reap(pid, &sig), -1);
    CHECK_EQ(sig, SIGTERM);
    CHECK_EQ(sig, 15);
}

// One "Sig...:" mask of /proc/<pid>/status (hex), or UINT64_MAX if it cannot be read.
static uint64_t proc_signal_mask(int32_t pid, const char* field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE* status = fopen(path, "r");
    if (status == NULL)
        return UINT64_MAX;
    uint64_t mask = UINT64_MAX;
    size_t fieldLen = strlen(field);
    while (fgets(line, sizeof(line), status) != NULL)
    {
        if (strncmp(line, field, fieldLen) == 0 && line[fieldLen] == ':')
            mask = strtoull(line + fieldLen + 1, NULL, 16);
    }
    fclose(status);
    return mask;
}

// Whether /proc/<pid>/comm is name (the shell has exec'd it).
static int proc_comm_is(int32_t pid, const char* name)
{
    char path[64], comm[64] = { 0 };
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE* file = fopen(path, "r");
    if (file == NULL)
        return 0;
    int ok = fgets(comm, sizeof(comm), file) != NULL;
    fclose(file);
    comm[strcspn(comm, "\n")] = '\0';
    return ok && strcmp(comm, name) == 0;
}

// What the shell execs starts with nothing blocked and nothing ignored: not the parent's SIGTERM
// and SIGUSR1, nor the real-time signals glibc reserves for itself (32, 33), which glibc's
// posix_spawn would otherwise leave ignored.
static void test_child_starts_with_no_blocked_or_ignored_signal(void)
{
    struct sigaction ignore = { .sa_handler = SIG_IGN }, previousAction;
    sigset_t blocked, previousMask;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigaction(SIGTERM, &ignore, &previousAction);
    sigprocmask(SIG_BLOCK, &blocked, &previousMask);

    int32_t in[2];
    PASS(IpcNative_Pipe2(in, 0));
    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("exec cat >/dev/null", in[0], -1, -1, IPC_SPAWN_NONE, &pid));
    PASS(IpcNative_Close(in[0]));

    sigprocmask(SIG_SETMASK, &previousMask, NULL);
    sigaction(SIGTERM, &previousAction, NULL);

    int64_t deadline = ipct_now_ns() + (int64_t)WAIT_MS * 1000000;
    while (!proc_comm_is(pid, "cat") && ipct_now_ns() < deadline)
        ipct_sleep_ms(2);
    CHECK(proc_comm_is(pid, "cat"));
    CHECK_EQ(proc_signal_mask(pid, "SigBlk"), 0);
    CHECK_EQ(proc_signal_mask(pid, "SigIgn"), 0);

    PASS(IpcNative_Close(in[1]));
    int32_t sig = -1;
    CHECK_EQ(reap(pid, &sig), 0);
    CHECK_EQ(sig, 0);
}

// A child that runs until its stdin is closed: `cat >/dev/null`, stdin from a pipe.
static int32_t spawn_until_stdin_closes(int32_t flags, int32_t* stdinWriter)
{
    int32_t in[2];
    PASS(IpcNative_Pipe2(in, 0));
    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("exec cat >/dev/null", in[0], -1, -1, flags, &pid));
    PASS(IpcNative_Close(in[0]));
    *stdinWriter = in[1];
    return pid;
}

// valgrind 3.19 (Debian 12) does not know pidfd_open (syscall 434) and fails it with ENOSYS; the
// plain run (shim.spawn) checks the pidfd, the memcheck run everything around it.
static int32_t pidfd_open_or_skip_under_valgrind(int32_t pid)
{
    int32_t pidfd = IpcNative_PidfdOpen(pid);
    if (pidfd == -ENOSYS && RUNNING_ON_VALGRIND)
    {
        printf("note: this valgrind does not support pidfd_open; the pidfd checks run only without valgrind\n");
        return -1;
    }
    PASS(pidfd);
    return pidfd;
}

static void test_pidfd_readable_at_exit_and_waitpid_nohang(void)
{
    int32_t writer = -1;
    int32_t pid = spawn_until_stdin_closes(IPC_SPAWN_NONE, &writer);
    int32_t pidfd = pidfd_open_or_skip_under_valgrind(pid);
    IpcPollFd entry = { pidfd, IPC_POLLIN, 0 };
    if (pidfd >= 0)
    {
        CHECK_EQ(IpcNative_GetCloseOnExec(pidfd), 1);
        // Running: the pidfd is not readable.
        CHECK_EQ(PASS(IpcNative_Poll(&entry, 1, 0)), 0);
    }

    // Running: WaitPid(noHang) says so without touching the outputs.
    int32_t code = 42, sig = 42;
    CHECK_EQ(PASS(IpcNative_WaitPid(pid, 1, &code, &sig)), 0);
    CHECK_EQ(code, 42);
    CHECK_EQ(sig, 42);

    // Closing its stdin ends it; the pidfd turns readable (before anyone reaps it).
    PASS(IpcNative_Close(writer));
    if (pidfd >= 0)
    {
        entry.revents = 0;
        CHECK_EQ(PASS(IpcNative_Poll(&entry, 1, WAIT_MS)), 1);
        CHECK((entry.revents & IPC_POLLIN) != 0);
        CHECK_EQ(PASS(IpcNative_WaitPid(pid, 1, &code, &sig)), pid);
    }
    else
    {
        CHECK_EQ(PASS(IpcNative_WaitPid(pid, 0, &code, &sig)), pid);
    }
    CHECK_EQ(code, 0);
    CHECK_EQ(sig, 0);
    // Reaped: waiting again is ECHILD.
    FAIL(IpcNative_WaitPid(pid, 1, &code, &sig), ECHILD);
    if (pidfd >= 0)
    {
        // Still readable after the reap; the descriptor is only closed by its owner.
        CHECK_EQ(PASS(IpcNative_Poll(&entry, 1, 0)), 1);
        PASS(IpcNative_Close(pidfd));
        FAIL(IpcNative_PidfdOpen(INT32_MAX), ESRCH); // beyond pid_max
    }

    FAIL(IpcNative_PidfdOpen(0), EINVAL);
    FAIL(IpcNative_PidfdOpen(-1), EINVAL);
}

// The child leads a group of its own only with IPC_SPAWN_NEW_PROCESS_GROUP; the group can be
// signalled as a whole. The child prints a line once it runs (so setpgid has happened).
static void test_new_process_group(void)
{
    int32_t in[2], out[2];
    PASS(IpcNative_Pipe2(in, 0));
    PASS(IpcNative_Pipe2(out, 0));
    int32_t leader = -1, plain = -1;
    PASS(IpcNative_SpawnShell("echo up; exec cat >/dev/null", in[0], out[1], -1, IPC_SPAWN_NEW_PROCESS_GROUP, &leader));
    PASS(IpcNative_SpawnShell("echo up; exec cat >/dev/null", in[0], out[1], -1, IPC_SPAWN_NONE, &plain));
    PASS(IpcNative_Close(in[0]));
    PASS(IpcNative_Close(out[1]));

    char buf[16];
    IpcPollFd entry = { out[0], IPC_POLLIN, 0 };
    size_t got = 0;
    while (got < 6 && PASS(IpcNative_Poll(&entry, 1, WAIT_MS)) == 1)
    {
        int32_t n = (int32_t)PASS(IpcNative_Read(out[0], (uint8_t*)buf + got, (int32_t)(sizeof(buf) - 1 - got)));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    CHECK_EQ(got, 6); // "up\n" twice

    CHECK_EQ(getpgid(leader), leader);
    CHECK_EQ(getpgid(plain), getpgrp());

    // The group is addressed by its positive id; IpcNative_Kill keeps refusing negative pids.
    FAIL(IpcNative_Kill(-leader, 0), EINVAL);
    CHECK_EQ(PASS(IpcNative_KillProcessGroup(leader, 0)), 0);
    if (PASS(IpcNative_KillProcessGroup(leader, SIGTERM)) < 0)
        kill(leader, SIGKILL); // do not hang in reap below
    int32_t sig = -1;
    CHECK_EQ(reap(leader, &sig), -1);
    CHECK_EQ(sig, SIGTERM);
    FAIL(IpcNative_KillProcessGroup(leader, 0), ESRCH);

    // The other child ends when its stdin closes.
    PASS(IpcNative_Close(in[1]));
    CHECK_EQ(reap(plain, &sig), 0);
    CHECK_EQ(sig, 0);
    PASS(IpcNative_Close(out[0]));

    FAIL(IpcNative_KillProcessGroup(0, 0), EINVAL);
    FAIL(IpcNative_KillProcessGroup(1, 0), EINVAL);
    FAIL(IpcNative_KillProcessGroup(-5, 0), EINVAL);
    FAIL(IpcNative_KillProcessGroup(getpgrp(), 0), EINVAL);
}

// A descriptor that already is its target (fd 0 as stdin) is inherited even though it is
// close-on-exec in the parent, and crossed descriptors (stdin from fd 1, stdout to fd 0) are not
// clobbered. The parent's own descriptors keep their flags.
static void test_stdio_descriptors_already_at_or_crossing_their_targets(void)
{
    fflush(stdout);
    int savedIn = fcntl(0, F_DUPFD_CLOEXEC, 3);
    int savedOut = fcntl(1, F_DUPFD_CLOEXEC, 3);
    CHECK(savedIn >= 3 && savedOut >= 3);

    // Same place: stdin is fd 0 itself.
    int32_t in[2], out[2];
    PASS(IpcNative_Pipe2(in, 0));
    PASS(IpcNative_Pipe2(out, 0));
    CHECK_EQ(dup3(in[0], 0, O_CLOEXEC), 0);
    PASS(IpcNative_Close(in[0]));
    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("cat", 0, out[1], -1, IPC_SPAWN_NONE, &pid));
    CHECK_EQ(IpcNative_GetCloseOnExec(0), 1);
    CHECK_EQ(dup2(savedIn, 0), 0); // our stdin back; the child has its own copy
    PASS(IpcNative_Close(out[1]));
    PASS(IpcNative_Write(in[1], (const uint8_t*)"same fd\n", 8));
    PASS(IpcNative_Close(in[1]));
    char buf[64];
    CHECK_EQ(read_to_end(out[0], buf, sizeof(buf)), 8);
    CHECK_STR(buf, "same fd\n");
    PASS(IpcNative_Close(out[0]));
    CHECK_EQ(reap(pid, NULL), 0);

    // Crossed: the stdin source sits at 1 and the stdout target at 0.
    PASS(IpcNative_Pipe2(in, 0));
    PASS(IpcNative_Pipe2(out, 0));
    CHECK_EQ(dup3(in[0], 1, O_CLOEXEC), 1);
    CHECK_EQ(dup3(out[1], 0, O_CLOEXEC), 0);
    PASS(IpcNative_Close(in[0]));
    PASS(IpcNative_Close(out[1]));
    pid = -1;
    int32_t spawned = IpcNative_SpawnShell("cat", 1, 0, -1, IPC_SPAWN_NONE, &pid);
    CHECK_EQ(dup2(savedIn, 0), 0);
    CHECK_EQ(dup2(savedOut, 1), 1);
    PASS(spawned);
    PASS(IpcNative_Write(in[1], (const uint8_t*)"crossed\n", 8));
    PASS(IpcNative_Close(in[1]));
    CHECK_EQ(read_to_end(out[0], buf, sizeof(buf)), 8);
    CHECK_STR(buf, "crossed\n");
    PASS(IpcNative_Close(out[0]));
    CHECK_EQ(reap(pid, NULL), 0);

    close(savedIn);
    close(savedOut);
}

static void test_spawn_errors(void)
{
    int32_t pid = -1;
    FAIL(IpcNative_SpawnShell(NULL, -1, -1, -1, IPC_SPAWN_NONE, &pid), EINVAL);
    FAIL(IpcNative_SpawnShell("true", -1, -1, -1, IPC_SPAWN_NONE, NULL), EINVAL);
    FAIL(IpcNative_SpawnShell("true", -1, -1, -1, 2, &pid), EINVAL);
    FAIL(IpcNative_SpawnShell("true", -2, -1, -1, IPC_SPAWN_NONE, &pid), EINVAL);
    FAIL(IpcNative_SpawnShell("true", -1, -1, INT32_MIN, IPC_SPAWN_NONE, &pid), EINVAL);

    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));
    FAIL(IpcNative_SpawnShell("true", fds[0], -1, -1, IPC_SPAWN_NONE, &pid), EBADF);
    CHECK_EQ(pid, -1);
}

static void test_waitpid_errors(void)
{
    int32_t code = 0, sig = 0;
    FAIL(IpcNative_WaitPid(1, 1, &code, &sig), ECHILD);          // init is nobody's child here
    FAIL(IpcNative_WaitPid(getpid(), 0, &code, &sig), ECHILD);   // nor are we
    FAIL(IpcNative_WaitPid(getppid(), 1, &code, &sig), ECHILD);
    FAIL(IpcNative_WaitPid(0, 1, &code, &sig), EINVAL);          // any child of our group
    FAIL(IpcNative_WaitPid(-1, 1, &code, &sig), EINVAL);         // any child at all

    // Outputs are optional.
    int32_t pid = -1;
    PASS(IpcNative_SpawnShell("exit 5", -1, -1, -1, IPC_SPAWN_NONE, &pid));
    CHECK_EQ(PASS(IpcNative_WaitPid(pid, 0, NULL, NULL)), pid);
}

static void test_resource_limit_round_trip(void)
{
    int64_t soft = 0, hard = 0;
    PASS(IpcNative_GetResourceLimit(IPC_RLIMIT_NOFILE, &soft, &hard));
    struct rlimit real;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &real), 0);
    CHECK_EQ(soft, (int64_t)real.rlim_cur);
    CHECK(soft > 16);
    CHECK(hard == -1 || hard >= soft);

    // Lower the soft limit by one and restore it.
    CHECK_EQ(PASS(IpcNative_SetResourceLimit(IPC_RLIMIT_NOFILE, soft - 1, hard)), 0);
    int64_t soft2 = 0, hard2 = 0;
    PASS(IpcNative_GetResourceLimit(IPC_RLIMIT_NOFILE, &soft2, &hard2));
    CHECK_EQ(soft2, soft - 1);
    CHECK_EQ(hard2, hard);
    PASS(IpcNative_SetResourceLimit(IPC_RLIMIT_NOFILE, soft, hard));
    PASS(IpcNative_GetResourceLimit(IPC_RLIMIT_NOFILE, &soft2, &hard2));
    CHECK_EQ(soft2, soft);
    CHECK_EQ(hard2, hard);

    // RLIMIT_MSGQUEUE: -1 stands for RLIM_INFINITY.
    PASS(IpcNative_GetResourceLimit(IPC_RLIMIT_MSGQUEUE, &soft, &hard));
    CHECK_EQ(getrlimit(RLIMIT_MSGQUEUE, &real), 0);
    CHECK_EQ(soft, real.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)real.rlim_cur);
    CHECK_EQ(hard, real.rlim_max == RLIM_INFINITY ? -1 : (int64_t)real.rlim_max);
    PASS(IpcNative_SetResourceLimit(IPC_RLIMIT_MSGQUEUE, soft, hard));

    // Soft above hard (and any soft above a finite hard) is EINVAL from the kernel.
    if (hard >= 0 && hard < INT64_MAX)
        FAIL(IpcNative_SetResourceLimit(IPC_RLIMIT_MSGQUEUE, hard + 1, hard), EINVAL);
    FAIL(IpcNative_SetResourceLimit(IPC_RLIMIT_MSGQUEUE, -1, 1024), EINVAL);
}

static void test_resource_limit_errors(void)
{
    int64_t soft = 0, hard = 0;
    FAIL(IpcNative_GetResourceLimit(0, &soft, &hard), EINVAL);
    FAIL(IpcNative_GetResourceLimit(3, &soft, &hard), EINVAL);
    FAIL(IpcNative_GetResourceLimit(7, &soft, &hard), EINVAL); // Linux's RLIMIT_NOFILE number is not the ABI's
    FAIL(IpcNative_GetResourceLimit(-1, &soft, &hard), EINVAL);
    FAIL(IpcNative_GetResourceLimit(IPC_RLIMIT_NOFILE, NULL, &hard), EINVAL);
    FAIL(IpcNative_GetResourceLimit(IPC_RLIMIT_NOFILE, &soft, NULL), EINVAL);
    FAIL(IpcNative_SetResourceLimit(99, 1, 1), EINVAL);
    FAIL(IpcNative_SetResourceLimit(IPC_RLIMIT_NOFILE, -2, -1), EINVAL);
    FAIL(IpcNative_SetResourceLimit(IPC_RLIMIT_NOFILE, 1, INT64_MIN), EINVAL);
}

TEST_LIST = {
    { "echo_into_pipe", test_echo_into_pipe },
    { "stdin_to_stdout_through_cat", test_stdin_to_stdout_through_cat },
    { "exit_code", test_exit_code },
    { "killed_by_signal_despite_parent_ignoring_and_blocking_it", test_killed_by_signal_despite_parent_ignoring_and_blocking_it },
    { "child_starts_with_no_blocked_or_ignored_signal", test_child_starts_with_no_blocked_or_ignored_signal },
    { "pidfd_readable_at_exit_and_waitpid_nohang", test_pidfd_readable_at_exit_and_waitpid_nohang },
    { "new_process_group", test_new_process_group },
    { "stdio_descriptors_already_at_or_crossing_their_targets", test_stdio_descriptors_already_at_or_crossing_their_targets },
    { "spawn_errors", test_spawn_errors },
    { "waitpid_errors", test_waitpid_errors },
    { "resource_limit_round_trip", test_resource_limit_round_trip },
    { "resource_limit_errors", test_resource_limit_errors },
    { NULL, NULL },
};
