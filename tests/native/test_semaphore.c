// test_semaphore.c - POSIX named semaphores.

#include "ipctest.h"

#include <limits.h>

#define MS (1000000LL)

// glibc keeps "/name" as /dev/shm/sem.name.
static const char* sem_file(char* buf, size_t size, const char* name)
{
    snprintf(buf, size, "/dev/shm/sem.%s", name + 1);
    return buf;
}

static void test_open_close_unlink(void)
{
    const char* name = ipct_sem_name("open");
    const char* missing = ipct_sem_name("missing");
    void* sem = NULL;
    void* again = NULL;

    CHECK_EQ(PASS(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_EXCL, 0600, 3, &sem)), 0);
    CHECK(sem != NULL);
    CHECK_EQ(IpcNative_SemGetValue(sem), 3);
    FAIL(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_EXCL, 0600, 0, &again), EEXIST);

    // Open the existing one, with and without O_CREAT (the value argument is then ignored).
    PASS(IpcNative_SemOpen(name, 0, 0, 0, &again));
    CHECK_EQ(IpcNative_SemGetValue(again), 3);
    PASS(IpcNative_SemClose(again));
    PASS(IpcNative_SemOpen(name, IPC_O_CREAT, 0600, 9, &again));
    CHECK_EQ(IpcNative_SemGetValue(again), 3);
    PASS(IpcNative_SemClose(again));

    FAIL(IpcNative_SemOpen(missing, 0, 0, 0, &again), ENOENT);
    FAIL(IpcNative_SemUnlink(missing), ENOENT);

    CHECK_EQ(PASS(IpcNative_SemClose(sem)), 0);
    CHECK_EQ(PASS(IpcNative_SemUnlink(name)), 0);
    FAIL(IpcNative_SemUnlink(name), ENOENT);
    FAIL(IpcNative_SemOpen(name, 0, 0, 0, &again), ENOENT);
}

static void test_open_errors(void)
{
    const char* name = ipct_sem_name("errors");
    void* sem = NULL;
    FAIL(IpcNative_SemOpen("no-slash", IPC_O_CREAT, 0600, 0, &sem), EINVAL);
    FAIL(IpcNative_SemOpen(NULL, IPC_O_CREAT, 0600, 0, &sem), EINVAL);
    char longName[300];
    memset(longName, 's', sizeof(longName));
    longName[0] = '/';
    longName[sizeof(longName) - 1] = '\0';
    FAIL(IpcNative_SemOpen(longName, IPC_O_CREAT, 0600, 0, &sem), ENAMETOOLONG);
    FAIL(IpcNative_SemUnlink(longName), ENAMETOOLONG);
    FAIL(IpcNative_SemUnlink("no-slash"), EINVAL);
    FAIL(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_RDWR, 0600, 0, &sem), EINVAL);
    FAIL(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_TRUNC, 0600, 0, &sem), EINVAL);
    FAIL(IpcNative_SemOpen(name, IPC_O_CREAT, 02000, 0, &sem), EINVAL);
    FAIL(IpcNative_SemOpen(name, IPC_O_CREAT, 0600, (uint32_t)SEM_VALUE_MAX + 1, &sem), EINVAL);
    FAIL(IpcNative_SemOpen(name, IPC_O_CREAT, 0600, 0, NULL), EINVAL);
    FAIL(IpcNative_SemUnlink(name), ENOENT); // nothing was created

    FAIL(IpcNative_SemWait(NULL), EINVAL);
    FAIL(IpcNative_SemTimedWait(NULL, 0, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_SemTryWait(NULL), EINVAL);
    FAIL(IpcNative_SemPost(NULL), EINVAL);
    FAIL(IpcNative_SemGetValue(NULL), EINVAL);
    FAIL(IpcNative_SemClose(NULL), EINVAL);
}

static void test_mode_exact(void)
{
    const char* name = ipct_sem_name("mode");
    char path[300];
    void* sem = NULL;
    struct stat st;

    mode_t old = umask(077);
    PASS(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_EXCL, 0666, 0, &sem));
    umask(old);
    CHECK_EQ(stat(sem_file(path, sizeof(path), name), &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0666);
    PASS(IpcNative_SemClose(sem));
    PASS(IpcNative_SemUnlink(name));

    // O_CREAT alone: exact when it creates, untouched when the semaphore exists.
    umask(022);
    PASS(IpcNative_SemOpen(name, IPC_O_CREAT, 0660, 0, &sem));
    umask(old);
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0660);
    void* again = NULL;
    PASS(IpcNative_SemOpen(name, IPC_O_CREAT, 0600, 0, &again));
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0660);
    PASS(IpcNative_SemClose(again));
    PASS(IpcNative_SemClose(sem));
    PASS(IpcNative_SemUnlink(name));
}

static void test_wait_post(void)
{
    const char* name = ipct_sem_name("waitpost");
    void* sem = NULL;
    PASS(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_EXCL, 0600, 0, &sem));

    FAIL(IpcNative_SemTryWait(sem), EAGAIN);
    CHECK_EQ(PASS(IpcNative_SemPost(sem)), 0);
    CHECK_EQ(PASS(IpcNative_SemPost(sem)), 0);
    CHECK_EQ(PASS(IpcNative_SemGetValue(sem)), 2);
    CHECK_EQ(PASS(IpcNative_SemTryWait(sem)), 0);
    CHECK_EQ(PASS(IpcNative_SemWait(sem)), 0);
    CHECK_EQ(PASS(IpcNative_SemGetValue(sem)), 0);
    FAIL(IpcNative_SemTryWait(sem), EAGAIN);

    // Timed waits that succeed at once.
    PASS(IpcNative_SemPost(sem));
    PASS(IpcNative_SemTimedWait(sem, 0, IPC_TIMEOUT_RELATIVE));
    PASS(IpcNative_SemPost(sem));
    PASS(IpcNative_SemTimedWait(sem, 0, IPC_TIMEOUT_INFINITE));
    PASS(IpcNative_SemPost(sem));
    PASS(IpcNative_SemTimedWait(sem, IpcNative_ClockMonotonicNs() + 10000 * MS, IPC_TIMEOUT_ABSOLUTE));

    // Timed waits that time out.
    int64_t start = ipct_now_ns();
    FAIL(IpcNative_SemTimedWait(sem, 150 * MS, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);
    start = ipct_now_ns();
    FAIL(IpcNative_SemTimedWait(sem, IpcNative_ClockMonotonicNs() + 150 * MS, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);
    FAIL(IpcNative_SemTimedWait(sem, 0, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    FAIL(IpcNative_SemTimedWait(sem, 0, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);

    FAIL(IpcNative_SemTimedWait(sem, 0, 3), EINVAL);
    FAIL(IpcNative_SemTimedWait(sem, -1, IPC_TIMEOUT_RELATIVE), EINVAL);

    PASS(IpcNative_SemClose(sem));
    PASS(IpcNative_SemUnlink(name));
}

static void test_overflow(void)
{
    const char* name = ipct_sem_name("overflow");
    void* sem = NULL;
    PASS(IpcNative_SemOpen(name, IPC_O_CREAT | IPC_O_EXCL, 0600, SEM_VALUE_MAX, &sem));
    CHECK_EQ(IpcNative_SemGetValue(sem), SEM_VALUE_MAX);
    FAIL(IpcNative_SemPost(sem), EOVERFLOW);
    PASS(IpcNative_SemClose(sem));
    PASS(IpcNative_SemUnlink(name));
}

// A ping-pong between two processes, each side opening the semaphores by name.
static void test_cross_process(void)
{
    const char* pingName = ipct_sem_name("xproc.ping");
    const char* pongName = ipct_sem_name("xproc.pong");
    void* ping = NULL;
    void* pong = NULL;
    PASS(IpcNative_SemOpen(pingName, IPC_O_CREAT | IPC_O_EXCL, 0600, 0, &ping));
    PASS(IpcNative_SemOpen(pongName, IPC_O_CREAT | IPC_O_EXCL, 0600, 0, &pong));

    pid_t child = ipct_fork();
    if (child == 0)
    {
        void* childPing = NULL;
        void* childPong = NULL;
        PASS(IpcNative_SemOpen(pingName, 0, 0, 0, &childPing));
        PASS(IpcNative_SemOpen(pongName, 0, 0, 0, &childPong));
        for (int round = 0; round < 3; round++)
        {
            if (PASS(IpcNative_SemTimedWait(childPing, 30000 * MS, IPC_TIMEOUT_RELATIVE)) < 0)
                break;
            PASS(IpcNative_SemPost(childPong));
        }
        PASS(IpcNative_SemClose(childPing));
        PASS(IpcNative_SemClose(childPong));
        PASS(IpcNative_SemClose(ping));
        PASS(IpcNative_SemClose(pong));
        ipct_child_exit();
    }

    for (int round = 0; round < 3; round++)
    {
        PASS(IpcNative_SemPost(ping));
        if (PASS(IpcNative_SemTimedWait(pong, 30000 * MS, IPC_TIMEOUT_RELATIVE)) < 0)
            break;
    }
    ipct_wait_child(child);
    CHECK_EQ(IpcNative_SemGetValue(ping), 0);
    CHECK_EQ(IpcNative_SemGetValue(pong), 0);

    PASS(IpcNative_SemClose(ping));
    PASS(IpcNative_SemClose(pong));
    PASS(IpcNative_SemUnlink(pingName));
    PASS(IpcNative_SemUnlink(pongName));
}

TEST_LIST = {
    { "open_close_unlink", test_open_close_unlink },
    { "open_errors", test_open_errors },
    { "mode_exact", test_mode_exact },
    { "wait_post", test_wait_post },
    { "overflow", test_overflow },
    { "cross_process", test_cross_process },
    { NULL, NULL },
};
