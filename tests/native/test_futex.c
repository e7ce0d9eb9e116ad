// test_futex.c - shared futex wait and wake, within a process and across processes.

#include "ipctest.h"

#include <limits.h>
#include <sys/time.h>

#define MS (1000000LL)

static void test_wait_errors(void)
{
    uint32_t word = 5;
    // The word does not hold the expected value: -EAGAIN at once, whatever the timeout.
    FAIL(IpcNative_FutexWait(&word, 4, 0, IPC_TIMEOUT_INFINITE), EAGAIN);
    FAIL(IpcNative_FutexWait(&word, 4, 10000 * MS, IPC_TIMEOUT_RELATIVE), EAGAIN);
    FAIL(IpcNative_FutexWait(&word, 4, IpcNative_ClockMonotonicNs() + 10000 * MS, IPC_TIMEOUT_ABSOLUTE), EAGAIN);

    FAIL(IpcNative_FutexWait(NULL, 0, 0, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_FutexWait(&word, 5, 0, 3), EINVAL);
    FAIL(IpcNative_FutexWait(&word, 5, -1, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_FutexWait(&word, 5, -1, IPC_TIMEOUT_ABSOLUTE), EINVAL);
    // Misaligned words are the kernel's EINVAL.
    uint32_t words[2] = { 0, 0 };
    FAIL(IpcNative_FutexWait((uint32_t*)(void*)((char*)words + 1), 0, 0, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_FutexWake((uint32_t*)(void*)((char*)words + 1), 1), EINVAL);

    CHECK_EQ(PASS(IpcNative_FutexWake(&word, 1)), 0); // nobody waits
    CHECK_EQ(PASS(IpcNative_FutexWake(&word, INT32_MAX)), 0);
    CHECK_EQ(PASS(IpcNative_FutexWake(&word, 0)), 0);
    FAIL(IpcNative_FutexWake(&word, -1), EINVAL);
    FAIL(IpcNative_FutexWake(NULL, 1), EINVAL);
}

static void test_wait_timeouts(void)
{
    uint32_t word = 0;
    int64_t start = ipct_now_ns();
    FAIL(IpcNative_FutexWait(&word, 0, 150 * MS, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);

    start = ipct_now_ns();
    FAIL(IpcNative_FutexWait(&word, 0, IpcNative_ClockMonotonicNs() + 150 * MS, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);

    // Relative 0 polls once; a past deadline too.
    FAIL(IpcNative_FutexWait(&word, 0, 0, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    FAIL(IpcNative_FutexWait(&word, 0, 0, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);
    FAIL(IpcNative_FutexWait(&word, 0, IpcNative_ClockMonotonicNs() - 1000 * MS, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int signal)
{
    (void)signal;
    alarms++;
}

// A signal during the wait is reported as -EINTR, not retried.
static void test_wait_eintr(void)
{
    struct sigaction action, previous;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_alarm; // no SA_RESTART
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, &previous);
    struct itimerval timer = { .it_value = { .tv_sec = 0, .tv_usec = 200000 } };
    alarms = 0;
    setitimer(ITIMER_REAL, &timer, NULL);

    uint32_t word = 0;
    // The timeout only guards against the signal coming before the wait starts.
    FAIL(IpcNative_FutexWait(&word, 0, 30000 * MS, IPC_TIMEOUT_RELATIVE), EINTR);
    CHECK_EQ(alarms, 1);

    struct itimerval off = { 0 };
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &previous, NULL);
}

// A word in a named shared-memory object, mapped MAP_SHARED.
typedef struct SharedWord
{
    const char* name;
    int32_t fd;
    uint32_t* word;
} SharedWord;

static int open_shared_word(SharedWord* shared, const char* tag)
{
    shared->name = ipct_shm_name(tag);
    shared->word = NULL;
    shared->fd = (int32_t)PASS(IpcNative_ShmOpen(shared->name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600));
    if (shared->fd < 0)
        return -1;
    void* addr = NULL;
    PASS(IpcNative_FTruncate(shared->fd, IpcNative_GetPageSize()));
    if (PASS(IpcNative_MMap(shared->fd, IpcNative_GetPageSize(), IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr)) < 0)
        return -1;
    shared->word = (uint32_t*)addr;
    return 0;
}

static void close_shared_word(SharedWord* shared, int unlinkIt)
{
    if (shared->word != NULL)
        PASS(IpcNative_MUnmap(shared->word, IpcNative_GetPageSize()));
    if (shared->fd >= 0)
        PASS(IpcNative_Close(shared->fd));
    if (unlinkIt)
        PASS(IpcNative_ShmUnlink(shared->name));
}

// Waits on word while it reads 0; returns how many waits ended in a wake (result 0).
static int wait_for_flag(uint32_t* word)
{
    int woken = 0;
    int64_t deadline = ipct_now_ns() + 60000 * MS;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0 && ipct_now_ns() < deadline)
    {
        int32_t result = IpcNative_FutexWait(word, 0, deadline, IPC_TIMEOUT_ABSOLUTE);
        if (result == 0)
            woken++;
        else if (result != -EAGAIN && result != -EINTR)
        {
            FAIL(result, EAGAIN);
            break;
        }
    }
    CHECK_EQ(__atomic_load_n(word, __ATOMIC_ACQUIRE), 1);
    return woken;
}

// Wakes the waiter on word: first until a wake reaches it (so it really was asleep in the kernel
// in another process), then sets the flag and wakes everyone.
static void wake_waiter(uint32_t* word)
{
    int64_t deadline = ipct_now_ns() + 60000 * MS;
    int32_t woken = 0;
    while (woken == 0 && ipct_now_ns() < deadline)
    {
        woken = (int32_t)PASS(IpcNative_FutexWake(word, 1));
        if (woken == 0)
            ipct_sleep_ms(2);
    }
    CHECK_EQ(woken, 1);
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    PASS(IpcNative_FutexWake(word, INT32_MAX));
}

static void test_child_waits_parent_wakes(void)
{
    SharedWord shared;
    if (open_shared_word(&shared, "futex.cw") < 0)
    {
        close_shared_word(&shared, 1);
        return;
    }
    pid_t child = ipct_fork();
    if (child == 0)
    {
        CHECK(wait_for_flag(shared.word) >= 1);
        close_shared_word(&shared, 0);
        ipct_child_exit();
    }
    wake_waiter(shared.word);
    ipct_wait_child(child);
    close_shared_word(&shared, 1);
}

static void test_parent_waits_child_wakes(void)
{
    SharedWord shared;
    if (open_shared_word(&shared, "futex.pw") < 0)
    {
        close_shared_word(&shared, 1);
        return;
    }
    pid_t child = ipct_fork();
    if (child == 0)
    {
        // The child maps the object by name at its own address.
        int32_t fd = (int32_t)PASS(IpcNative_ShmOpen(shared.name, IPC_O_RDWR, 0));
        void* addr = NULL;
        if (PASS(IpcNative_MMap(fd, IpcNative_GetPageSize(), IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr)) == 0)
        {
            wake_waiter((uint32_t*)addr);
            PASS(IpcNative_MUnmap(addr, IpcNative_GetPageSize()));
        }
        PASS(IpcNative_Close(fd));
        close_shared_word(&shared, 0);
        ipct_child_exit();
    }
    CHECK(wait_for_flag(shared.word) >= 1);
    ipct_wait_child(child);
    close_shared_word(&shared, 1);
}

// One wake with INT32_MAX releases several waiting processes.
static void test_wake_all(void)
{
    SharedWord shared;
    if (open_shared_word(&shared, "futex.all") < 0)
    {
        close_shared_word(&shared, 1);
        return;
    }
    enum { CHILDREN = 3 };
    pid_t children[CHILDREN];
    for (int i = 0; i < CHILDREN; i++)
    {
        children[i] = ipct_fork();
        if (children[i] == 0)
        {
            wait_for_flag(shared.word);
            close_shared_word(&shared, 0);
            ipct_child_exit();
        }
    }
    // Each wake sends the children back to sleep (the flag is still 0); sooner or later all of
    // them sleep at once and a single wake releases every one.
    int64_t deadline = ipct_now_ns() + 60000 * MS;
    int32_t most = 0;
    while (most < CHILDREN && ipct_now_ns() < deadline)
    {
        int32_t woken = (int32_t)PASS(IpcNative_FutexWake(shared.word, INT32_MAX));
        if (woken > most)
            most = woken;
        if (most < CHILDREN)
            ipct_sleep_ms(5);
    }
    CHECK_EQ(most, CHILDREN);
    __atomic_store_n(shared.word, 1, __ATOMIC_RELEASE);
    PASS(IpcNative_FutexWake(shared.word, INT32_MAX));
    for (int i = 0; i < CHILDREN; i++)
        ipct_wait_child(children[i]);
    close_shared_word(&shared, 1);
}

TEST_LIST = {
    { "wait_errors", test_wait_errors },
    { "wait_timeouts", test_wait_timeouts },
    { "wait_eintr", test_wait_eintr },
    { "child_waits_parent_wakes", test_child_waits_parent_wakes },
    { "parent_waits_child_wakes", test_parent_waits_child_wakes },
    { "wake_all", test_wake_all },
    { NULL, NULL },
};
