// test_mqueue.c - POSIX message queues.

#include "ipctest.h"

#define MS (1000000LL)

// Small queues: every queue of this user shares RLIMIT_MSGQUEUE with whatever else runs.
#define DEPTH 4
#define MSGSIZE 128

static int64_t read_proc(const char* path)
{
    FILE* file = fopen(path, "r");
    if (file == NULL)
        return -1;
    long long value = -1;
    if (fscanf(file, "%lld", &value) != 1)
        value = -1;
    fclose(file);
    return value;
}

static int32_t create_queue(const char* name, int32_t extraFlags)
{
    return (int32_t)PASS(IpcNative_MqOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL | extraFlags, 0600, DEPTH, MSGSIZE));
}

static void test_limits(void)
{
    IpcMqLimits limits;
    memset(&limits, 0xFF, sizeof(limits));
    CHECK_EQ(PASS(IpcNative_MqGetLimits(&limits)), 0);
    CHECK_EQ(limits.msgMax, read_proc("/proc/sys/fs/mqueue/msg_max"));
    CHECK_EQ(limits.msgSizeMax, read_proc("/proc/sys/fs/mqueue/msgsize_max"));
    CHECK_EQ(limits.msgDefault, read_proc("/proc/sys/fs/mqueue/msg_default"));
    CHECK_EQ(limits.msgSizeDefault, read_proc("/proc/sys/fs/mqueue/msgsize_default"));
    CHECK_EQ(limits.queuesMax, read_proc("/proc/sys/fs/mqueue/queues_max"));
    CHECK(limits.msgMax > 0 && limits.msgSizeMax > 0);
    FAIL(IpcNative_MqGetLimits(NULL), EINVAL);
}

static void test_open_close_unlink(void)
{
    const char* name = ipct_mq_name("open");
    const char* missing = ipct_mq_name("missing");

    int32_t mq = create_queue(name, 0);
    CHECK_EQ(IpcNative_GetCloseOnExec(mq), 1);
    FAIL(IpcNative_MqOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600, DEPTH, MSGSIZE), EEXIST);

    // Opening the existing queue, with and without O_CREAT.
    int32_t second = (int32_t)PASS(IpcNative_MqOpen(name, IPC_O_WRONLY, 0, 0, 0));
    int32_t third = (int32_t)PASS(IpcNative_MqOpen(name, IPC_O_RDONLY | IPC_O_CREAT, 0600, DEPTH, MSGSIZE));
    IpcMqAttr attr;
    PASS(IpcNative_MqGetAttr(third, &attr));
    CHECK_EQ(attr.maxMsg, DEPTH);
    CHECK_EQ(attr.msgSize, MSGSIZE);
    CHECK_EQ(attr.curMsgs, 0);
    CHECK_EQ(attr.flags, 0);
    // Access modes are enforced per descriptor.
    uint8_t buf[MSGSIZE] = { 0 };
    FAIL(IpcNative_MqSend(third, buf, 1, 0, 0, IPC_TIMEOUT_RELATIVE), EBADF);
    FAIL(IpcNative_MqReceive(second, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_RELATIVE), EBADF);
    PASS(IpcNative_MqClose(second));
    PASS(IpcNative_MqClose(third));

    FAIL(IpcNative_MqOpen(missing, IPC_O_RDWR, 0, 0, 0), ENOENT);
    FAIL(IpcNative_MqUnlink(missing), ENOENT);

    CHECK_EQ(PASS(IpcNative_MqClose(mq)), 0);
    FAIL(IpcNative_MqClose(mq), EBADF);
    CHECK_EQ(PASS(IpcNative_MqUnlink(name)), 0);
    FAIL(IpcNative_MqUnlink(name), ENOENT);
    FAIL(IpcNative_MqOpen(name, IPC_O_RDWR, 0, 0, 0), ENOENT);
}

static void test_open_errors(void)
{
    const char* name = ipct_mq_name("errors");
    int32_t flags = IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL;

    FAIL(IpcNative_MqOpen("no-slash", flags, 0600, DEPTH, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(NULL, flags, 0600, DEPTH, MSGSIZE), EINVAL);
    char longName[300];
    memset(longName, 'q', sizeof(longName));
    longName[0] = '/';
    longName[sizeof(longName) - 1] = '\0';
    FAIL(IpcNative_MqOpen(longName, flags, 0600, DEPTH, MSGSIZE), ENAMETOOLONG);
    FAIL(IpcNative_MqUnlink(longName), ENAMETOOLONG);
    FAIL(IpcNative_MqUnlink("no-slash"), EINVAL);

    FAIL(IpcNative_MqOpen(name, flags | IPC_O_TRUNC, 0600, DEPTH, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(name, IPC_O_WRONLY | IPC_O_RDWR | IPC_O_CREAT, 0600, DEPTH, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(name, flags, 01000, DEPTH, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(name, flags, 0600, -1, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(name, flags, 0600, DEPTH, -1), EINVAL);
    // Only one of the two sizes given: the kernel refuses a zero.
    FAIL(IpcNative_MqOpen(name, flags, 0600, 0, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(name, flags, 0600, DEPTH, 0), EINVAL);
    // Beyond the limits (beyond even the hard ones root may reach: HARD_MSGMAX, HARD_MSGSIZEMAX).
    FAIL(IpcNative_MqOpen(name, flags, 0600, 1 << 20, MSGSIZE), EINVAL);
    FAIL(IpcNative_MqOpen(name, flags, 0600, DEPTH, 1 << 28), EINVAL);
    if (geteuid() != 0)
    {
        IpcMqLimits limits;
        PASS(IpcNative_MqGetLimits(&limits));
        FAIL(IpcNative_MqOpen(name, flags, 0600, limits.msgMax + 1, MSGSIZE), EINVAL);
        FAIL(IpcNative_MqOpen(name, flags, 0600, DEPTH, limits.msgSizeMax + 1), EINVAL);
    }
    // None of that created anything.
    FAIL(IpcNative_MqUnlink(name), ENOENT);
}

static void test_defaults_and_mode(void)
{
    const char* name = ipct_mq_name("defaults");
    IpcMqLimits limits;
    PASS(IpcNative_MqGetLimits(&limits));

    // 0 and 0: the system defaults. The mode is exact whatever the umask.
    mode_t old = umask(077);
    int32_t mq = (int32_t)PASS(IpcNative_MqOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0666, 0, 0));
    umask(old);
    IpcMqAttr attr;
    PASS(IpcNative_MqGetAttr(mq, &attr));
    CHECK_EQ(attr.maxMsg, limits.msgDefault);
    CHECK_EQ(attr.msgSize, limits.msgSizeDefault);
    IpcFileStatus status;
    PASS(IpcNative_FStat(mq, &status));
    CHECK_EQ(status.mode & 0777, 0666);
    PASS(IpcNative_MqClose(mq));
    PASS(IpcNative_MqUnlink(name));

    // O_CREAT without O_EXCL creates with the exact mode too, but leaves an existing queue's alone.
    umask(022);
    mq = (int32_t)PASS(IpcNative_MqOpen(name, IPC_O_RDWR | IPC_O_CREAT, 0622, DEPTH, MSGSIZE));
    umask(old);
    PASS(IpcNative_FStat(mq, &status));
    CHECK_EQ(status.mode & 0777, 0622);
    int32_t again = (int32_t)PASS(IpcNative_MqOpen(name, IPC_O_RDWR | IPC_O_CREAT, 0600, DEPTH, MSGSIZE));
    PASS(IpcNative_FStat(again, &status));
    CHECK_EQ(status.mode & 0777, 0622);
    PASS(IpcNative_MqClose(again));
    PASS(IpcNative_MqClose(mq));
    PASS(IpcNative_MqUnlink(name));
}

static void test_send_receive(void)
{
    const char* name = ipct_mq_name("sendrecv");
    int32_t mq = create_queue(name, 0);
    uint8_t buf[MSGSIZE];
    uint32_t prio = 99;

    PASS(IpcNative_MqSend(mq, (const uint8_t*)"one", 3, 0, 0, IPC_TIMEOUT_INFINITE));
    CHECK_EQ(PASS(IpcNative_MqReceive(mq, buf, sizeof(buf), &prio, 0, IPC_TIMEOUT_INFINITE)), 3);
    CHECK(memcmp(buf, "one", 3) == 0);
    CHECK_EQ(prio, 0);

    // An empty message and a full-size one; prio may be NULL.
    PASS(IpcNative_MqSend(mq, NULL, 0, 2, 0, IPC_TIMEOUT_RELATIVE));
    memset(buf, 'z', sizeof(buf));
    PASS(IpcNative_MqSend(mq, buf, MSGSIZE, 1, 0, IPC_TIMEOUT_RELATIVE));
    CHECK_EQ(PASS(IpcNative_MqReceive(mq, buf, sizeof(buf), &prio, 0, IPC_TIMEOUT_RELATIVE)), 0);
    CHECK_EQ(prio, 2);
    CHECK_EQ(PASS(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_RELATIVE)), MSGSIZE);

    // Too big to send; buffer too small to receive.
    uint8_t big[MSGSIZE + 1] = { 0 };
    FAIL(IpcNative_MqSend(mq, big, MSGSIZE + 1, 0, 0, IPC_TIMEOUT_RELATIVE), EMSGSIZE);
    PASS(IpcNative_MqSend(mq, (const uint8_t*)"x", 1, 0, 0, IPC_TIMEOUT_RELATIVE));
    FAIL(IpcNative_MqReceive(mq, buf, MSGSIZE - 1, NULL, 0, IPC_TIMEOUT_RELATIVE), EMSGSIZE);
    CHECK_EQ(PASS(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_RELATIVE)), 1);

    // Argument errors.
    FAIL(IpcNative_MqSend(mq, buf, -1, 0, 0, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_MqSend(mq, NULL, 1, 0, 0, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_MqSend(mq, buf, 1, 0, 0, 3), EINVAL);
    FAIL(IpcNative_MqSend(mq, buf, 1, 0, -1, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_MqSend(mq, buf, 1, 0, -1, IPC_TIMEOUT_ABSOLUTE), EINVAL);
    FAIL(IpcNative_MqSend(mq, buf, 1, 32768, 0, IPC_TIMEOUT_RELATIVE), EINVAL); // MQ_PRIO_MAX
    FAIL(IpcNative_MqReceive(mq, buf, -1, NULL, 0, IPC_TIMEOUT_RELATIVE), EINVAL);
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, -1), EINVAL);
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, -5, IPC_TIMEOUT_RELATIVE), EINVAL);

    PASS(IpcNative_MqClose(mq));
    FAIL(IpcNative_MqSend(mq, buf, 1, 0, 0, IPC_TIMEOUT_RELATIVE), EBADF);
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_RELATIVE), EBADF);
    PASS(IpcNative_MqUnlink(name));
}

static void test_priorities(void)
{
    const char* name = ipct_mq_name("prio");
    int32_t mq = create_queue(name, 0);
    PASS(IpcNative_MqSend(mq, (const uint8_t*)"low", 3, 1, 0, IPC_TIMEOUT_RELATIVE));
    PASS(IpcNative_MqSend(mq, (const uint8_t*)"high-1", 6, 5, 0, IPC_TIMEOUT_RELATIVE));
    PASS(IpcNative_MqSend(mq, (const uint8_t*)"high-2", 6, 5, 0, IPC_TIMEOUT_RELATIVE));
    PASS(IpcNative_MqSend(mq, (const uint8_t*)"mid", 3, 3, 0, IPC_TIMEOUT_RELATIVE));

    static const struct
    {
        const char* text;
        uint32_t prio;
    } expected[] = { { "high-1", 5 }, { "high-2", 5 }, { "mid", 3 }, { "low", 1 } };
    for (int i = 0; i < 4; i++)
    {
        uint8_t buf[MSGSIZE + 1];
        uint32_t prio = 0;
        int32_t length = (int32_t)PASS(IpcNative_MqReceive(mq, buf, MSGSIZE, &prio, 0, IPC_TIMEOUT_RELATIVE));
        if (length < 0)
            break;
        buf[length] = '\0';
        CHECK_STR((const char*)buf, expected[i].text);
        CHECK_EQ(prio, expected[i].prio);
    }
    PASS(IpcNative_MqClose(mq));
    PASS(IpcNative_MqUnlink(name));
}

static void test_nonblocking(void)
{
    const char* name = ipct_mq_name("nonblock");
    int32_t mq = create_queue(name, IPC_O_NONBLOCK);
    uint8_t buf[MSGSIZE] = { 0 };
    IpcMqAttr attr;

    PASS(IpcNative_MqGetAttr(mq, &attr));
    CHECK_EQ(attr.flags, IPC_O_NONBLOCK);
    // Empty: -EAGAIN whatever the timeout.
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_INFINITE), EAGAIN);
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 1000 * MS, IPC_TIMEOUT_RELATIVE), EAGAIN);
    for (int i = 0; i < DEPTH; i++)
        PASS(IpcNative_MqSend(mq, buf, 8, 0, 0, IPC_TIMEOUT_INFINITE));
    PASS(IpcNative_MqGetAttr(mq, &attr));
    CHECK_EQ(attr.curMsgs, DEPTH);
    // Full: -EAGAIN.
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, 0, IPC_TIMEOUT_INFINITE), EAGAIN);

    // Switching modes.
    PASS(IpcNative_MqSetNonBlocking(mq, 0));
    PASS(IpcNative_MqGetAttr(mq, &attr));
    CHECK_EQ(attr.flags, 0);
    CHECK_EQ(attr.maxMsg, DEPTH);
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, 0, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    PASS(IpcNative_MqSetNonBlocking(mq, 1));
    PASS(IpcNative_MqGetAttr(mq, &attr));
    CHECK_EQ(attr.flags, IPC_O_NONBLOCK);
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, 0, IPC_TIMEOUT_RELATIVE), EAGAIN);

    FAIL(IpcNative_MqGetAttr(mq, NULL), EINVAL);
    PASS(IpcNative_MqClose(mq));
    FAIL(IpcNative_MqGetAttr(mq, &attr), EBADF);
    FAIL(IpcNative_MqSetNonBlocking(mq, 1), EBADF);
    // A descriptor that is not a queue.
    int32_t efd = (int32_t)PASS(IpcNative_EventFd(0, 0));
    FAIL(IpcNative_MqGetAttr(efd, &attr), EBADF);
    PASS(IpcNative_Close(efd));
    PASS(IpcNative_MqUnlink(name));
}

static void test_timeouts(void)
{
    const char* name = ipct_mq_name("timeouts");
    int32_t mq = create_queue(name, 0);
    uint8_t buf[MSGSIZE] = { 0 };

    // Empty queue: receive times out, relative and absolute (a monotonic deadline).
    int64_t start = ipct_now_ns();
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 150 * MS, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);
    start = ipct_now_ns();
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, IpcNative_ClockMonotonicNs() + 150 * MS, IPC_TIMEOUT_ABSOLUTE),
         ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);
    // Relative 0 tries once; a deadline in the past too.
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    FAIL(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);

    // Full queue: send times out the same ways.
    for (int i = 0; i < DEPTH; i++)
        PASS(IpcNative_MqSend(mq, buf, 8, 0, 0, IPC_TIMEOUT_RELATIVE));
    start = ipct_now_ns();
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, 150 * MS, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);
    start = ipct_now_ns();
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, IpcNative_ClockMonotonicNs() + 150 * MS, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);
    CHECK(ipct_now_ns() - start >= 140 * MS);
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, 0, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    FAIL(IpcNative_MqSend(mq, buf, 8, 0, IpcNative_ClockMonotonicNs() - 1000 * MS, IPC_TIMEOUT_ABSOLUTE), ETIMEDOUT);

    // With room, a timed call succeeds at once.
    PASS(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 10000 * MS, IPC_TIMEOUT_RELATIVE));
    PASS(IpcNative_MqSend(mq, buf, 8, 0, IpcNative_ClockMonotonicNs() + 10000 * MS, IPC_TIMEOUT_ABSOLUTE));

    PASS(IpcNative_MqClose(mq));
    PASS(IpcNative_MqUnlink(name));
}

static void test_poll_epoll(void)
{
    const char* name = ipct_mq_name("poll");
    int32_t mq = create_queue(name, 0);

    IpcPollFd entry = { .fd = mq, .events = IPC_POLLIN };
    CHECK_EQ(PASS(IpcNative_Poll(&entry, 1, 0)), 0);
    int32_t epfd = (int32_t)PASS(IpcNative_EpollCreate());
    PASS(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, mq, IPC_POLLIN, 42));
    IpcEpollEvent events[2];
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 2, 0)), 0);

    PASS(IpcNative_MqSend(mq, (const uint8_t*)"ready", 5, 0, 0, IPC_TIMEOUT_RELATIVE));
    CHECK_EQ(PASS(IpcNative_Poll(&entry, 1, 1000)), 1);
    CHECK(entry.revents & IPC_POLLIN);
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 2, 1000)), 1);
    CHECK_EQ(events[0].data, 42);
    CHECK(events[0].events & IPC_POLLIN);

    // Full: not writable.
    uint8_t buf[MSGSIZE];
    for (int i = 1; i < DEPTH; i++)
        PASS(IpcNative_MqSend(mq, (const uint8_t*)"more", 4, 0, 0, IPC_TIMEOUT_RELATIVE));
    IpcPollFd out = { .fd = mq, .events = IPC_POLLOUT };
    CHECK_EQ(PASS(IpcNative_Poll(&out, 1, 0)), 0);
    PASS(IpcNative_MqReceive(mq, buf, sizeof(buf), NULL, 0, IPC_TIMEOUT_RELATIVE));
    CHECK_EQ(PASS(IpcNative_Poll(&out, 1, 0)), 1);
    CHECK(out.revents & IPC_POLLOUT);

    PASS(IpcNative_Close(epfd));
    PASS(IpcNative_MqClose(mq));
    PASS(IpcNative_MqUnlink(name));
}

// Parent and child: the child sends four messages, the parent gets them by priority (FIFO within
// one), answers, and the child gets the answer within its timeout.
static void test_cross_process(void)
{
    const char* toParent = ipct_mq_name("xproc.up");
    const char* toChild = ipct_mq_name("xproc.down");
    int32_t up = create_queue(toParent, 0);
    int32_t down = create_queue(toChild, 0);

    pid_t child = ipct_fork();
    if (child == 0)
    {
        // The child's own descriptors, opened by name.
        int32_t tx = (int32_t)PASS(IpcNative_MqOpen(toParent, IPC_O_WRONLY, 0, 0, 0));
        int32_t rx = (int32_t)PASS(IpcNative_MqOpen(toChild, IPC_O_RDONLY, 0, 0, 0));
        PASS(IpcNative_MqSend(tx, (const uint8_t*)"p1-first", 8, 1, 10000 * MS, IPC_TIMEOUT_RELATIVE));
        PASS(IpcNative_MqSend(tx, (const uint8_t*)"p7-first", 8, 7, 10000 * MS, IPC_TIMEOUT_RELATIVE));
        PASS(IpcNative_MqSend(tx, (const uint8_t*)"p1-later", 8, 1, 10000 * MS, IPC_TIMEOUT_RELATIVE));
        PASS(IpcNative_MqSend(tx, (const uint8_t*)"p7-later", 8, 7, 10000 * MS, IPC_TIMEOUT_RELATIVE));
        uint8_t buf[MSGSIZE + 1];
        uint32_t prio = 0;
        int32_t length = (int32_t)PASS(IpcNative_MqReceive(rx, buf, MSGSIZE, &prio, 30000 * MS, IPC_TIMEOUT_RELATIVE));
        if (length >= 0)
        {
            buf[length] = '\0';
            CHECK_STR((const char*)buf, "ack");
            CHECK_EQ(prio, 3);
        }
        PASS(IpcNative_MqClose(tx));
        PASS(IpcNative_MqClose(rx));
        PASS(IpcNative_MqClose(up));
        PASS(IpcNative_MqClose(down));
        ipct_child_exit();
    }

    static const char* const order[] = { "p7-first", "p7-later", "p1-first", "p1-later" };
    static const uint32_t prios[] = { 7, 7, 1, 1 };
    // Wait until all four are queued, so the order is the queue's and not the race's.
    IpcMqAttr attr = { 0 };
    int64_t deadline = ipct_now_ns() + 30000 * MS;
    while (IpcNative_MqGetAttr(up, &attr) == 0 && attr.curMsgs < 4 && ipct_now_ns() < deadline)
        ipct_sleep_ms(5);
    CHECK_EQ(attr.curMsgs, 4);
    for (int i = 0; i < 4; i++)
    {
        uint8_t buf[MSGSIZE + 1];
        uint32_t prio = 0;
        int32_t length = (int32_t)PASS(IpcNative_MqReceive(up, buf, MSGSIZE, &prio, 30000 * MS, IPC_TIMEOUT_RELATIVE));
        if (length < 0)
            break;
        buf[length] = '\0';
        CHECK_STR((const char*)buf, order[i]);
        CHECK_EQ(prio, prios[i]);
    }
    PASS(IpcNative_MqSend(down, (const uint8_t*)"ack", 3, 3, 0, IPC_TIMEOUT_RELATIVE));
    ipct_wait_child(child);

    PASS(IpcNative_MqClose(up));
    PASS(IpcNative_MqClose(down));
    PASS(IpcNative_MqUnlink(toParent));
    PASS(IpcNative_MqUnlink(toChild));
}

TEST_LIST = {
    { "limits", test_limits },
    { "open_close_unlink", test_open_close_unlink },
    { "open_errors", test_open_errors },
    { "defaults_and_mode", test_defaults_and_mode },
    { "send_receive", test_send_receive },
    { "priorities", test_priorities },
    { "nonblocking", test_nonblocking },
    { "timeouts", test_timeouts },
    { "poll_epoll", test_poll_epoll },
    { "cross_process", test_cross_process },
    { NULL, NULL },
};
