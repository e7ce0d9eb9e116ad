// ipctest.h - a tiny test harness for the shim's C tests (acutest / NNG NUTS style).
//
//     static void test_something(void) { int fd = (int)PASS(IpcNative_Open(...)); FAIL(IpcNative_Unlink(p), ENOENT); }
//     TEST_LIST = { { "something", test_something }, { NULL, NULL } };
//
// PASS(expr)        expr (a shim result) must be >= 0; evaluates to it.
// FAIL(expr, ERR)   expr must be exactly -ERR.
// CHECK(cond)       cond must be true.
// CHECK_EQ(a, b)    a == b as int64.
// CHECK_STR(a, b)   equal C strings.
// A failed check prints file:line and the expression and the test goes on; the program exits
// non-zero if any check failed. Every test also fails if it leaves a descriptor open.
//
// Names (/ipccore-ctest.<pid>.<tag>) and temp paths (under a mkdtemp directory) come from
// ipct_*_name()/ipct_temp_path(), which remember them: the harness removes whatever is left at
// the end, even after failed checks. Children made with ipct_fork() report through their exit
// status (ipct_child_exit) and never run the cleanup.
#pragma once

#include "ipccore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct ipct_test
{
    const char* name;
    void (*func)(void);
} ipct_test;

#define TEST_LIST const ipct_test ipct_tests[]
extern const ipct_test ipct_tests[];

#define IPCT_MAX_NAMES 64
#define IPCT_NAME_LEN 320

static int ipct_failures;      // failed checks in this process
static int ipct_is_child;      // set in ipct_fork() children
static pid_t ipct_main_pid;    // the test program's pid: part of every name
static char ipct_dir[64];      // mkdtemp directory, made on first use
static char ipct_names[3][IPCT_MAX_NAMES][IPCT_NAME_LEN];
static int ipct_name_counts[3];
enum { IPCT_SHM, IPCT_MQ, IPCT_SEM };

static inline const char* ipct_errname(int64_t value)
{
    if (value >= 0)
        return "success";
    const char* name = strerrorname_np((int)-value);
    return name != NULL ? name : "?";
}

static inline int64_t ipct_pass(int64_t result, const char* expr, const char* file, int line)
{
    if (result < 0)
    {
        ipct_failures++;
        fprintf(stderr, "%s:%d: %s%s failed: %" PRId64 " (%s)\n", file, line, ipct_is_child ? "[child] " : "", expr,
                result, ipct_errname(result));
    }
    return result;
}

static inline int64_t ipct_fail(int64_t result, int64_t expected, const char* expr, const char* errName, const char* file, int line)
{
    if (result != expected)
    {
        ipct_failures++;
        fprintf(stderr, "%s:%d: %s%s: expected -%s, got %" PRId64 " (%s)\n", file, line, ipct_is_child ? "[child] " : "",
                expr, errName, result, ipct_errname(result));
    }
    return result;
}

static inline int ipct_check(int ok, const char* expr, const char* file, int line)
{
    if (!ok)
    {
        ipct_failures++;
        fprintf(stderr, "%s:%d: %sCHECK(%s) failed\n", file, line, ipct_is_child ? "[child] " : "", expr);
    }
    return ok;
}

static inline int ipct_check_eq(int64_t a, int64_t b, const char* ea, const char* eb, const char* file, int line)
{
    if (a != b)
    {
        ipct_failures++;
        fprintf(stderr, "%s:%d: %s%s == %s failed: %" PRId64 " != %" PRId64 "\n", file, line, ipct_is_child ? "[child] " : "",
                ea, eb, a, b);
    }
    return a == b;
}

static inline int ipct_check_str(const char* a, const char* b, const char* ea, const char* eb, const char* file, int line)
{
    int ok = a != NULL && b != NULL && strcmp(a, b) == 0;
    if (!ok)
    {
        ipct_failures++;
        fprintf(stderr, "%s:%d: %s%s == %s failed: \"%s\" != \"%s\"\n", file, line, ipct_is_child ? "[child] " : "", ea,
                eb, a ? a : "(null)", b ? b : "(null)");
    }
    return ok;
}

#define PASS(expr) ipct_pass((int64_t)(expr), #expr, __FILE__, __LINE__)
#define FAIL(expr, err) ipct_fail((int64_t)(expr), -(int64_t)(err), #expr, #err, __FILE__, __LINE__)
#define CHECK(cond) ipct_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) ipct_check_eq((int64_t)(a), (int64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) ipct_check_str((a), (b), #a, #b, __FILE__, __LINE__)

// --- names and paths ---------------------------------------------------------------------------

static inline const char* ipct_remember(int kind, const char* tag)
{
    if (ipct_name_counts[kind] >= IPCT_MAX_NAMES)
    {
        fprintf(stderr, "ipctest: too many names\n");
        abort();
    }
    char* slot = ipct_names[kind][ipct_name_counts[kind]++];
    snprintf(slot, IPCT_NAME_LEN, "/ipccore-ctest.%d.%s", (int)ipct_main_pid, tag);
    return slot;
}

// "/ipccore-ctest.<pid>.<tag>", removed with shm_unlink / mq_unlink / sem_unlink at the end.
static inline const char* ipct_shm_name(const char* tag) { return ipct_remember(IPCT_SHM, tag); }
static inline const char* ipct_mq_name(const char* tag) { return ipct_remember(IPCT_MQ, tag); }
static inline const char* ipct_sem_name(const char* tag) { return ipct_remember(IPCT_SEM, tag); }

// The mkdtemp directory every temp path lives in (removed with everything in it at the end).
static inline const char* ipct_temp_dir(void)
{
    if (ipct_dir[0] == '\0')
    {
        snprintf(ipct_dir, sizeof(ipct_dir), "/tmp/ipccore-ctest.%d.XXXXXX", (int)ipct_main_pid);
        if (mkdtemp(ipct_dir) == NULL)
        {
            perror("ipctest: mkdtemp");
            abort();
        }
    }
    return ipct_dir;
}

// A path "<temp dir>/<tag>" in caller storage.
static inline const char* ipct_temp_path(char* buf, size_t size, const char* tag)
{
    snprintf(buf, size, "%s/%s", ipct_temp_dir(), tag);
    return buf;
}

static inline int ipct_remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void ipct_cleanup(void)
{
    for (int i = 0; i < ipct_name_counts[IPCT_SHM]; i++)
        shm_unlink(ipct_names[IPCT_SHM][i]);
    for (int i = 0; i < ipct_name_counts[IPCT_MQ]; i++)
        mq_unlink(ipct_names[IPCT_MQ][i]);
    for (int i = 0; i < ipct_name_counts[IPCT_SEM]; i++)
        sem_unlink(ipct_names[IPCT_SEM][i]);
    if (ipct_dir[0] != '\0')
        nftw(ipct_dir, ipct_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

// --- processes, descriptors, time --------------------------------------------------------------

// fork() for a test child: output is flushed first so nothing is printed twice, and the child
// counts only its own failures.
static inline pid_t ipct_fork(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
    {
        ipct_is_child = 1;
        ipct_failures = 0;
    }
    else if (pid < 0)
    {
        ipct_failures++;
        perror("ipctest: fork");
    }
    return pid;
}

// Ends a child: status 0 if all its checks passed. _exit: no atexit handlers, no cleanup of the
// parent's names, no double-flushed stdio.
__attribute__((noreturn)) static inline void ipct_child_exit(void)
{
    fflush(NULL);
    _exit(ipct_failures == 0 ? 0 : 1);
}

// Waits for a child made by ipct_fork and fails unless it exited with status 0.
static inline void ipct_wait_child(pid_t pid)
{
    if (pid <= 0)
        return;
    int status;
    pid_t waited;
    do
        waited = waitpid(pid, &status, 0);
    while (waited < 0 && errno == EINTR);
    if (waited != pid)
    {
        ipct_failures++;
        perror("ipctest: waitpid");
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    {
        ipct_failures++;
        if (WIFSIGNALED(status))
            fprintf(stderr, "ipctest: child %d killed by signal %d\n", (int)pid, WTERMSIG(status));
        else
            fprintf(stderr, "ipctest: child %d exited with status %d\n", (int)pid, WEXITSTATUS(status));
    }
}

// The number of open descriptors of this process (/proc/self/fd, minus the directory's own).
static inline int ipct_count_fds(void)
{
    DIR* dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return -1;
    int count = 0;
    struct dirent* entry;
    while ((entry = readdir(dir)) != NULL)
    {
        if (entry->d_name[0] != '.')
            count++;
    }
    closedir(dir);
    return count - 1;
}

static inline int64_t ipct_now_ns(void)
{
    return IpcNative_ClockMonotonicNs();
}

static inline void ipct_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    {
    }
}

// --- main ----------------------------------------------------------------------------------------

// Usage: test_x [name...]: runs the named tests, or all of them.
int main(int argc, char** argv)
{
    ipct_main_pid = getpid();
    int run = 0;
    int failedTests = 0;
    for (const ipct_test* test = ipct_tests; test->name != NULL; test++)
    {
        int selected = argc <= 1;
        for (int i = 1; i < argc && !selected; i++)
            selected = strcmp(argv[i], test->name) == 0;
        if (!selected)
            continue;
        run++;
        int before = ipct_failures;
        int fdsBefore = ipct_count_fds();
        test->func();
        int fdsAfter = ipct_count_fds();
        if (fdsAfter != fdsBefore)
        {
            ipct_failures++;
            fprintf(stderr, "%s: descriptor leak: %d open before, %d after\n", test->name, fdsBefore, fdsAfter);
        }
        int ok = ipct_failures == before;
        failedTests += ok ? 0 : 1;
        printf("[%s] %s\n", ok ? " OK " : "FAIL", test->name);
        fflush(stdout);
    }
    ipct_cleanup();
    printf("%d of %d tests passed\n", run - failedTests, run);
    if (run == 0)
    {
        fprintf(stderr, "no test matched\n");
        return 2;
    }
    return ipct_failures == 0 ? 0 : 1;
}
