// test_fd.c - descriptors, files, pipes, FIFOs, eventfds, flock, poll, epoll and processes.

#include "ipctest.h"

#include <limits.h>
#include <sys/file.h>

// A descriptor number that was valid a moment ago and is closed now.
static int32_t closed_fd(void)
{
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));
    return fds[0];
}

static void test_close(void)
{
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    CHECK_EQ(PASS(IpcNative_Close(fds[0])), 0);
    CHECK_EQ(PASS(IpcNative_Close(fds[1])), 0);
    FAIL(IpcNative_Close(fds[0]), EBADF);
    FAIL(IpcNative_Close(-1), EBADF);
}

static void test_pipe_read_write(void)
{
    int32_t fds[2] = { -1, -1 };
    CHECK_EQ(PASS(IpcNative_Pipe2(fds, 0)), 0);
    CHECK_EQ(IpcNative_GetCloseOnExec(fds[0]), 1);
    CHECK_EQ(IpcNative_GetCloseOnExec(fds[1]), 1);
    CHECK_EQ(IpcNative_GetNonBlocking(fds[0]), 0);

    const uint8_t message[] = "hello, pipe";
    CHECK_EQ(PASS(IpcNative_Write(fds[1], message, sizeof(message))), sizeof(message));
    uint8_t buf[64] = { 0 };
    CHECK_EQ(PASS(IpcNative_Read(fds[0], buf, sizeof(buf))), sizeof(message));
    CHECK_STR((const char*)buf, "hello, pipe");

    // Zero-length calls are fine; negative lengths are not.
    CHECK_EQ(PASS(IpcNative_Write(fds[1], message, 0)), 0);
    // The pipe-only write: the same bytes, one system call.
    CHECK_EQ(PASS(IpcNative_WritePipe(fds[1], message, sizeof(message))), sizeof(message));
    CHECK_EQ(PASS(IpcNative_Read(fds[0], buf, sizeof(buf))), sizeof(message));
    CHECK(memcmp(buf, message, sizeof(message)) == 0);
    FAIL(IpcNative_WritePipe(fds[1], message, -1), EINVAL);
    FAIL(IpcNative_WritePipe(fds[0], message, 1), EBADF);
    FAIL(IpcNative_Read(fds[0], buf, -1), EINVAL);
    FAIL(IpcNative_Write(fds[1], message, -1), EINVAL);

    // Empty and non-blocking: -EAGAIN.
    PASS(IpcNative_SetNonBlocking(fds[0], 1));
    FAIL(IpcNative_Read(fds[0], buf, sizeof(buf)), EAGAIN);

    // Wrong direction.
    FAIL(IpcNative_Read(fds[1], buf, sizeof(buf)), EBADF);
    FAIL(IpcNative_Write(fds[0], message, 1), EBADF);

    // End of file once the writer is gone.
    PASS(IpcNative_Close(fds[1]));
    CHECK_EQ(PASS(IpcNative_Read(fds[0], buf, sizeof(buf))), 0);
    PASS(IpcNative_Close(fds[0]));

    // No reader: -EPIPE (a pipe does raise SIGPIPE, so ignore it for this check).
    PASS(IpcNative_Pipe2(fds, 0));
    PASS(IpcNative_Close(fds[0]));
    struct sigaction ignore = { .sa_handler = SIG_IGN }, previous;
    sigaction(SIGPIPE, &ignore, &previous);
    FAIL(IpcNative_Write(fds[1], message, sizeof(message)), EPIPE);
    FAIL(IpcNative_WritePipe(fds[1], message, sizeof(message)), EPIPE);
    sigaction(SIGPIPE, &previous, NULL);
    PASS(IpcNative_Close(fds[1]));

    int32_t bad = closed_fd();
    FAIL(IpcNative_Read(bad, buf, sizeof(buf)), EBADF);
    FAIL(IpcNative_Write(bad, message, 1), EBADF);
}

static void test_pipe2_flags(void)
{
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, IPC_PIPE_NONBLOCK));
    CHECK_EQ(IpcNative_GetNonBlocking(fds[0]), 1);
    CHECK_EQ(IpcNative_GetNonBlocking(fds[1]), 1);
    CHECK_EQ(IpcNative_GetCloseOnExec(fds[0]), 1);
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));

    // Packet mode: each write is one read.
    PASS(IpcNative_Pipe2(fds, IPC_PIPE_DIRECT | IPC_PIPE_CLOEXEC));
    uint8_t buf[16];
    PASS(IpcNative_Write(fds[1], (const uint8_t*)"abc", 3));
    PASS(IpcNative_Write(fds[1], (const uint8_t*)"de", 2));
    CHECK_EQ(PASS(IpcNative_Read(fds[0], buf, sizeof(buf))), 3);
    CHECK_EQ(PASS(IpcNative_Read(fds[0], buf, sizeof(buf))), 2);
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));

    FAIL(IpcNative_Pipe2(fds, 0x1), EINVAL);
    FAIL(IpcNative_Pipe2(fds, IPC_O_CREAT), EINVAL);
    FAIL(IpcNative_Pipe2(NULL, 0), EINVAL);
}

static void test_pipe_sizes(void)
{
    CHECK_EQ(IpcNative_GetPipeBuf(), PIPE_BUF);
    CHECK_EQ(IpcNative_GetPipeBuf(), 4096);

    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    int32_t size = (int32_t)PASS(IpcNative_GetPipeSize(fds[0]));
    CHECK(size >= 4096);
    int32_t grown = (int32_t)PASS(IpcNative_SetPipeSize(fds[1], 256 * 1024));
    CHECK(grown >= 256 * 1024);
    CHECK_EQ(IpcNative_GetPipeSize(fds[0]), grown);
    int32_t shrunk = (int32_t)PASS(IpcNative_SetPipeSize(fds[0], 4096));
    CHECK_EQ(shrunk, 4096);
    FAIL(IpcNative_SetPipeSize(fds[0], 0), EINVAL);
    FAIL(IpcNative_SetPipeSize(fds[0], -1), EINVAL);
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));

    // Not a pipe: -EBADF (the kernel's answer for F_GETPIPE_SZ on another file).
    int32_t efd = (int32_t)PASS(IpcNative_EventFd(0, 0));
    FAIL(IpcNative_GetPipeSize(efd), EBADF);
    FAIL(IpcNative_SetPipeSize(efd, 8192), EBADF);
    PASS(IpcNative_Close(efd));
    FAIL(IpcNative_GetPipeSize(closed_fd()), EBADF);
}

static void test_open_unlink(void)
{
    char path[256], missing[256];
    ipct_temp_path(path, sizeof(path), "file");
    ipct_temp_path(missing, sizeof(missing), "no-such-dir/file");

    int32_t fd = (int32_t)PASS(IpcNative_Open(path, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600));
    CHECK_EQ(IpcNative_GetCloseOnExec(fd), 1);
    CHECK_EQ(PASS(IpcNative_Write(fd, (const uint8_t*)"12345", 5)), 5);
    IpcFileStatus status;
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.size, 5);
    CHECK(S_ISREG(status.mode));
    CHECK_EQ(status.isFifo, 0);
    CHECK_EQ(status.uid, geteuid());
    CHECK_EQ(status.gid, getegid());
    PASS(IpcNative_Close(fd));

    // Exclusive create of an existing file, plain open and truncate of it.
    FAIL(IpcNative_Open(path, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600), EEXIST);
    fd = (int32_t)PASS(IpcNative_Open(path, IPC_O_RDONLY | IPC_O_NONBLOCK | IPC_O_NOCTTY, 0));
    CHECK_EQ(IpcNative_GetNonBlocking(fd), 1);
    PASS(IpcNative_Close(fd));
    fd = (int32_t)PASS(IpcNative_Open(path, IPC_O_WRONLY | IPC_O_TRUNC | IPC_O_CLOEXEC, 0));
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.size, 0);
    PASS(IpcNative_Close(fd));

    FAIL(IpcNative_Open(missing, IPC_O_RDONLY, 0), ENOENT);
    FAIL(IpcNative_Open(missing, IPC_O_RDWR | IPC_O_CREAT, 0600), ENOENT);
    FAIL(IpcNative_Open(path, 0x10000000, 0), EINVAL);            // unknown bit
    FAIL(IpcNative_Open(path, IPC_O_WRONLY | IPC_O_RDWR, 0), EINVAL); // O_ACCMODE
    FAIL(IpcNative_Open(path, IPC_O_RDWR | IPC_O_CREAT, 010000), EINVAL);
    FAIL(IpcNative_Open(NULL, IPC_O_RDONLY, 0), EINVAL);
    FAIL(IpcNative_Open(ipct_temp_dir(), IPC_O_RDWR, 0), EISDIR);

    char longName[400];
    memset(longName, 'n', sizeof(longName));
    longName[sizeof(longName) - 1] = '\0';
    FAIL(IpcNative_Open(longName, IPC_O_RDONLY, 0), ENAMETOOLONG);

    CHECK_EQ(PASS(IpcNative_Unlink(path)), 0);
    FAIL(IpcNative_Unlink(path), ENOENT);
    FAIL(IpcNative_Unlink(NULL), EINVAL);
    FAIL(IpcNative_Unlink(ipct_temp_dir()), EISDIR);
}

static void test_mkfifo(void)
{
    char path[256], path2[256], missing[256];
    ipct_temp_path(path, sizeof(path), "fifo");
    ipct_temp_path(path2, sizeof(path2), "fifo2");
    ipct_temp_path(missing, sizeof(missing), "no-such-dir/fifo");

    // The mode is exact whatever the umask.
    mode_t old = umask(077);
    PASS(IpcNative_MkFifo(path, 0666));
    umask(022);
    PASS(IpcNative_MkFifo(path2, 0600));
    umask(old);
    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0666);
    CHECK_EQ(stat(path2, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);

    FAIL(IpcNative_MkFifo(path, 0600), EEXIST);
    FAIL(IpcNative_MkFifo(missing, 0600), ENOENT);
    FAIL(IpcNative_MkFifo(path, 0100000), EINVAL);
    FAIL(IpcNative_MkFifo(NULL, 0600), EINVAL);

    // A non-blocking reader opens at once, then the writer; data flows and FStat sees a FIFO.
    int32_t reader = (int32_t)PASS(IpcNative_Open(path, IPC_O_RDONLY | IPC_O_NONBLOCK, 0));
    int32_t writer = (int32_t)PASS(IpcNative_Open(path, IPC_O_WRONLY | IPC_O_NONBLOCK, 0));
    IpcFileStatus status;
    PASS(IpcNative_FStat(reader, &status));
    CHECK_EQ(status.isFifo, 1);
    CHECK(S_ISFIFO(status.mode));
    CHECK_EQ(status.mode & 0777, 0666);
    CHECK(IpcNative_GetPipeSize(reader) >= 4096);
    uint8_t buf[8];
    FAIL(IpcNative_Read(reader, buf, sizeof(buf)), EAGAIN);
    PASS(IpcNative_Write(writer, (const uint8_t*)"fifo", 4));
    CHECK_EQ(PASS(IpcNative_Read(reader, buf, sizeof(buf))), 4);
    CHECK(memcmp(buf, "fifo", 4) == 0);
    PASS(IpcNative_Close(writer));
    PASS(IpcNative_Close(reader));

    PASS(IpcNative_Unlink(path));
    PASS(IpcNative_Unlink(path2));
}

static void test_eventfd(void)
{
    uint64_t value = 0;
    int32_t efd = (int32_t)PASS(IpcNative_EventFd(0, IPC_EFD_NONBLOCK));
    CHECK_EQ(IpcNative_GetCloseOnExec(efd), 1);
    CHECK_EQ(IpcNative_GetNonBlocking(efd), 1);
    FAIL(IpcNative_EventFdRead(efd, &value), EAGAIN);
    PASS(IpcNative_EventFdWrite(efd, 3));
    PASS(IpcNative_EventFdWrite(efd, 4));
    CHECK_EQ(PASS(IpcNative_EventFdRead(efd, &value)), 0);
    CHECK_EQ(value, 7);
    FAIL(IpcNative_EventFdRead(efd, &value), EAGAIN);

    // UINT64_MAX is not a valid increment; overflowing the counter would block.
    FAIL(IpcNative_EventFdWrite(efd, UINT64_MAX), EINVAL);
    PASS(IpcNative_EventFdWrite(efd, UINT64_MAX - 1));
    FAIL(IpcNative_EventFdWrite(efd, 1), EAGAIN);
    FAIL(IpcNative_EventFdRead(efd, NULL), EINVAL);
    PASS(IpcNative_Close(efd));

    // Semaphore mode hands out one at a time.
    efd = (int32_t)PASS(IpcNative_EventFd(2, IPC_EFD_SEMAPHORE | IPC_EFD_NONBLOCK | IPC_EFD_CLOEXEC));
    PASS(IpcNative_EventFdRead(efd, &value));
    CHECK_EQ(value, 1);
    PASS(IpcNative_EventFdRead(efd, &value));
    CHECK_EQ(value, 1);
    FAIL(IpcNative_EventFdRead(efd, &value), EAGAIN);
    PASS(IpcNative_Close(efd));

    // Blocking eventfd with a count: reads without waiting.
    efd = (int32_t)PASS(IpcNative_EventFd(5, 0));
    CHECK_EQ(IpcNative_GetNonBlocking(efd), 0);
    PASS(IpcNative_EventFdRead(efd, &value));
    CHECK_EQ(value, 5);
    PASS(IpcNative_Close(efd));

    FAIL(IpcNative_EventFd(0, 0x2), EINVAL);
    FAIL(IpcNative_EventFd(0, IPC_O_CREAT), EINVAL);
    int32_t bad = closed_fd();
    FAIL(IpcNative_EventFdWrite(bad, 1), EBADF);
    FAIL(IpcNative_EventFdRead(bad, &value), EBADF);
}

static void test_nonblocking_cloexec(void)
{
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    CHECK_EQ(PASS(IpcNative_GetNonBlocking(fds[0])), 0);
    PASS(IpcNative_SetNonBlocking(fds[0], 1));
    CHECK_EQ(PASS(IpcNative_GetNonBlocking(fds[0])), 1);
    PASS(IpcNative_SetNonBlocking(fds[0], 1)); // idempotent
    CHECK_EQ(PASS(IpcNative_GetNonBlocking(fds[0])), 1);
    PASS(IpcNative_SetNonBlocking(fds[0], 0));
    CHECK_EQ(PASS(IpcNative_GetNonBlocking(fds[0])), 0);
    CHECK_EQ(PASS(IpcNative_GetNonBlocking(fds[1])), 0);

    // dup(2) does not copy FD_CLOEXEC: the query tells them apart.
    int copy = dup(fds[0]);
    CHECK(copy >= 0);
    CHECK_EQ(PASS(IpcNative_GetCloseOnExec(copy)), 0);
    CHECK_EQ(PASS(IpcNative_GetCloseOnExec(fds[0])), 1);
    PASS(IpcNative_Close(copy));
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));

    int32_t bad = closed_fd();
    FAIL(IpcNative_SetNonBlocking(bad, 1), EBADF);
    FAIL(IpcNative_GetNonBlocking(bad), EBADF);
    FAIL(IpcNative_GetCloseOnExec(bad), EBADF);
}

static void test_fstat(void)
{
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    IpcFileStatus status;
    memset(&status, 0xFF, sizeof(status));
    PASS(IpcNative_FStat(fds[0], &status));
    CHECK_EQ(status.isFifo, 1);
    CHECK(S_ISFIFO(status.mode));
    CHECK_EQ(status.uid, geteuid());
    FAIL(IpcNative_FStat(fds[0], NULL), EINVAL);
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));

    int32_t efd = (int32_t)PASS(IpcNative_EventFd(0, 0));
    PASS(IpcNative_FStat(efd, &status));
    CHECK_EQ(status.isFifo, 0);
    PASS(IpcNative_Close(efd));
    FAIL(IpcNative_FStat(closed_fd(), &status), EBADF);
}

static void test_flock(void)
{
    char path[256];
    ipct_temp_path(path, sizeof(path), "lock");
    // Two opens are two open file descriptions: flock locks conflict between them.
    int32_t first = (int32_t)PASS(IpcNative_Open(path, IPC_O_RDWR | IPC_O_CREAT, 0600));
    int32_t second = (int32_t)PASS(IpcNative_Open(path, IPC_O_RDWR, 0));

    CHECK_EQ(PASS(IpcNative_Flock(first, IPC_LOCK_EX)), 0);
    FAIL(IpcNative_Flock(second, IPC_LOCK_EX | IPC_LOCK_NB), EAGAIN);
    FAIL(IpcNative_Flock(second, IPC_LOCK_SH | IPC_LOCK_NB), EWOULDBLOCK);
    PASS(IpcNative_Flock(first, IPC_LOCK_UN));
    PASS(IpcNative_Flock(second, IPC_LOCK_SH | IPC_LOCK_NB));
    PASS(IpcNative_Flock(first, IPC_LOCK_SH | IPC_LOCK_NB)); // shared with shared is fine
    FAIL(IpcNative_Flock(first, IPC_LOCK_EX | IPC_LOCK_NB), EAGAIN);
    PASS(IpcNative_Flock(second, IPC_LOCK_UN));
    PASS(IpcNative_Flock(first, IPC_LOCK_EX | IPC_LOCK_NB)); // upgrade once alone
    PASS(IpcNative_Flock(first, IPC_LOCK_UN));

    FAIL(IpcNative_Flock(first, 0), EINVAL);
    FAIL(IpcNative_Flock(first, IPC_LOCK_NB), EINVAL);
    FAIL(IpcNative_Flock(first, IPC_LOCK_SH | IPC_LOCK_EX), EINVAL);
    FAIL(IpcNative_Flock(first, 16), EINVAL);
    FAIL(IpcNative_Flock(closed_fd(), IPC_LOCK_EX), EBADF);

    PASS(IpcNative_Close(first));
    PASS(IpcNative_Close(second));
    PASS(IpcNative_Unlink(path));
}

static void test_poll(void)
{
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, IPC_PIPE_NONBLOCK));
    int32_t efd = (int32_t)PASS(IpcNative_EventFd(0, IPC_EFD_NONBLOCK));

    IpcPollFd entries[3] = {
        { .fd = fds[0], .events = IPC_POLLIN },
        { .fd = efd, .events = IPC_POLLIN },
        { .fd = fds[1], .events = IPC_POLLOUT },
    };
    // Only the write end is ready.
    CHECK_EQ(PASS(IpcNative_Poll(entries, 3, 0)), 1);
    CHECK_EQ(entries[0].revents, 0);
    CHECK_EQ(entries[1].revents, 0);
    CHECK_EQ(entries[2].revents, IPC_POLLOUT);

    // Nothing ready within the timeout: waits for it (at least roughly), then 0.
    int64_t start = ipct_now_ns();
    CHECK_EQ(PASS(IpcNative_Poll(entries, 2, 100)), 0);
    CHECK(ipct_now_ns() - start >= 90 * 1000000LL);

    PASS(IpcNative_Write(fds[1], (const uint8_t*)"x", 1));
    PASS(IpcNative_EventFdWrite(efd, 1));
    CHECK_EQ(PASS(IpcNative_Poll(entries, 2, -1)), 2);
    CHECK_EQ(entries[0].revents, IPC_POLLIN);
    CHECK_EQ(entries[1].revents, IPC_POLLIN);

    // Writer gone: POLLHUP on the read end.
    uint8_t byte;
    PASS(IpcNative_Read(fds[0], &byte, 1));
    PASS(IpcNative_Close(fds[1]));
    CHECK_EQ(PASS(IpcNative_Poll(entries, 1, 1000)), 1);
    CHECK(entries[0].revents & IPC_POLLHUP);

    // A closed descriptor is POLLNVAL, not an error.
    IpcPollFd invalid = { .fd = closed_fd(), .events = IPC_POLLIN };
    CHECK_EQ(PASS(IpcNative_Poll(&invalid, 1, 0)), 1);
    CHECK_EQ(invalid.revents, IPC_POLLNVAL);

    // No descriptors: a plain sleep.
    CHECK_EQ(PASS(IpcNative_Poll(NULL, 0, 10)), 0);

    FAIL(IpcNative_Poll(entries, -1, 0), EINVAL);
    FAIL(IpcNative_Poll(entries, 1, -2), EINVAL);
    FAIL(IpcNative_Poll(NULL, 1, 0), EINVAL);

    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(efd));
}

static void test_epoll(void)
{
    int32_t epfd = (int32_t)PASS(IpcNative_EpollCreate());
    CHECK_EQ(IpcNative_GetCloseOnExec(epfd), 1);

    // Five descriptors, so that EpollWait widens several packed entries in place.
    int32_t efds[5];
    for (int i = 0; i < 5; i++)
    {
        efds[i] = (int32_t)PASS(IpcNative_EventFd(0, IPC_EFD_NONBLOCK));
        PASS(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, efds[i], IPC_POLLIN, 0x1000000000ULL + (uint64_t)i));
    }
    IpcEpollEvent events[8];
    memset(events, 0xEE, sizeof(events));
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 8, 0)), 0);

    int64_t start = ipct_now_ns();
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 8, 100)), 0);
    CHECK(ipct_now_ns() - start >= 90 * 1000000LL);

    for (int i = 0; i < 5; i++)
        PASS(IpcNative_EventFdWrite(efds[i], 1));
    int32_t count = (int32_t)PASS(IpcNative_EpollWait(epfd, events, 8, -1));
    CHECK_EQ(count, 5);
    int seen = 0;
    for (int i = 0; i < count; i++)
    {
        uint64_t index = events[i].data - 0x1000000000ULL;
        CHECK(index < 5);
        if (index < 5)
            seen |= 1 << index;
        CHECK_EQ(events[i].events, IPC_POLLIN);
        CHECK_EQ(events[i].reserved, 0);
    }
    CHECK_EQ(seen, 0x1F);

    // Fewer slots than ready descriptors: exactly maxEvents come back, the rest next time.
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 2, 0)), 2);

    // MOD to edge-triggered with new data, DEL, and the errors of each.
    uint64_t value;
    PASS(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_MOD, efds[0], IPC_POLLIN | (uint32_t)IPC_EPOLLET, 77));
    for (int i = 1; i < 5; i++)
        PASS(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_DEL, efds[i], 0, 0));
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 8, 0)), 1);
    CHECK_EQ(events[0].data, 77);
    // Edge-triggered: no new edge, no new event, although the counter is still readable.
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 8, 0)), 0);
    PASS(IpcNative_EventFdRead(efds[0], &value));

    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, efds[0], IPC_POLLIN, 0), EEXIST);
    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_DEL, efds[1], 0, 0), ENOENT);
    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_MOD, efds[1], IPC_POLLIN, 0), ENOENT);
    FAIL(IpcNative_EpollCtl(epfd, 4, efds[1], IPC_POLLIN, 0), EINVAL);
    FAIL(IpcNative_EpollCtl(epfd, 0, efds[1], IPC_POLLIN, 0), EINVAL);
    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, efds[1], IPC_POLLNVAL, 0), EINVAL);
    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, efds[1], 1u << 30, 0), EINVAL); // EPOLLONESHOT
    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, epfd, IPC_POLLIN, 0), EINVAL);  // itself
    FAIL(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, closed_fd(), IPC_POLLIN, 0), EBADF);
    FAIL(IpcNative_EpollWait(epfd, events, 0, 0), EINVAL);
    FAIL(IpcNative_EpollWait(epfd, NULL, 1, 0), EINVAL);
    FAIL(IpcNative_EpollWait(epfd, events, 1, -2), EINVAL);
    FAIL(IpcNative_EpollWait(closed_fd(), events, 1, 0), EBADF);
    FAIL(IpcNative_EpollWait(efds[0], events, 1, 0), EINVAL); // not an epoll fd
    FAIL(IpcNative_EpollCtl(closed_fd(), IPC_EPOLL_CTL_ADD, efds[0], IPC_POLLIN, 0), EBADF);

    // A pipe: readable, then hung up.
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    PASS(IpcNative_EpollCtl(epfd, IPC_EPOLL_CTL_ADD, fds[0], IPC_POLLIN | IPC_POLLRDHUP, 5));
    PASS(IpcNative_Write(fds[1], (const uint8_t*)"p", 1));
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 8, 1000)), 1);
    CHECK_EQ(events[0].data, 5);
    CHECK_EQ(events[0].events, IPC_POLLIN);
    PASS(IpcNative_Close(fds[1]));
    CHECK_EQ(PASS(IpcNative_EpollWait(epfd, events, 8, 1000)), 1);
    CHECK(events[0].events & IPC_POLLHUP);
    PASS(IpcNative_Close(fds[0]));

    for (int i = 0; i < 5; i++)
        PASS(IpcNative_Close(efds[i]));
    PASS(IpcNative_Close(epfd));
}

static void test_process(void)
{
    CHECK_EQ(IpcNative_GetPid(), getpid());
    CHECK_EQ(IpcNative_GetEUid(), (int64_t)geteuid());
    CHECK(IpcNative_GetEUid() >= 0);

    CHECK_EQ(PASS(IpcNative_Kill(IpcNative_GetPid(), 0)), 0);
    // pid 1 exists; only root may signal it.
    if (geteuid() == 0)
        PASS(IpcNative_Kill(1, 0));
    else
        FAIL(IpcNative_Kill(1, 0), EPERM);
    FAIL(IpcNative_Kill(IpcNative_GetPid(), 9999), EINVAL);
    // Process groups and "everyone" are refused.
    FAIL(IpcNative_Kill(0, 0), EINVAL);
    FAIL(IpcNative_Kill(-1, 0), EINVAL);

    // A child that is stopped for good by a signal sent through the shim.
    pid_t child = ipct_fork();
    if (child == 0)
    {
        for (;;)
            pause();
    }
    CHECK_EQ(PASS(IpcNative_Kill(child, 0)), 0);
    PASS(IpcNative_Kill(child, SIGKILL));
    int status = 0;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    // Reaped: gone.
    FAIL(IpcNative_Kill(child, 0), ESRCH);
}

static void test_dup(void)
{
    int32_t pipeFds[2];
    PASS(IpcNative_Pipe2(pipeFds, 0));
    int32_t copy = (int32_t)PASS(IpcNative_Dup(pipeFds[1]));
    CHECK(copy != pipeFds[1]);
    CHECK_EQ(IpcNative_GetCloseOnExec(copy), 1);
    // The copy writes into the same pipe.
    PASS(IpcNative_Write(copy, (const uint8_t*)"x", 1));
    uint8_t b = 0;
    CHECK_EQ(PASS(IpcNative_Read(pipeFds[0], &b, 1)), 1);
    CHECK_EQ(b, 'x');
    PASS(IpcNative_Close(copy));
    FAIL(IpcNative_Dup(copy), EBADF);
    PASS(IpcNative_Close(pipeFds[0]));
    PASS(IpcNative_Close(pipeFds[1]));
}

static void test_drop_privileges(void)
{
    pid_t child = ipct_fork();
    if (child == 0)
    {
        if (geteuid() == 0)
        {
            PASS(IpcNative_DropPrivileges(65534, 65534));
            CHECK_EQ(geteuid(), 65534);
            CHECK_EQ(getegid(), 65534);
            // And for good: root cannot be had back.
            FAIL(IpcNative_DropPrivileges(0, 0), EPERM);
        }
        else
        {
            FAIL(IpcNative_DropPrivileges(0, 0), EPERM);
        }
        ipct_child_exit();
    }
    ipct_wait_child(child);
}

TEST_LIST = {
    { "close", test_close },
    { "pipe_read_write", test_pipe_read_write },
    { "pipe2_flags", test_pipe2_flags },
    { "pipe_sizes", test_pipe_sizes },
    { "open_unlink", test_open_unlink },
    { "mkfifo", test_mkfifo },
    { "eventfd", test_eventfd },
    { "nonblocking_cloexec", test_nonblocking_cloexec },
    { "fstat", test_fstat },
    { "flock", test_flock },
    { "poll", test_poll },
    { "epoll", test_epoll },
    { "process", test_process },
    { "dup", test_dup },
    { "drop_privileges", test_drop_privileges },
    { NULL, NULL },
};
