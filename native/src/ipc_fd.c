// ipc_fd.c - descriptors, files, pipes, FIFOs, eventfds, flock, poll and epoll.

#include "ipc_common.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

// open(2) flags.
c_static_assert(IPC_O_RDONLY == O_RDONLY);
c_static_assert(IPC_O_WRONLY == O_WRONLY);
c_static_assert(IPC_O_RDWR == O_RDWR);
c_static_assert(IPC_O_CREAT == O_CREAT);
c_static_assert(IPC_O_EXCL == O_EXCL);
c_static_assert(IPC_O_NOCTTY == O_NOCTTY);
c_static_assert(IPC_O_TRUNC == O_TRUNC);
c_static_assert(IPC_O_NONBLOCK == O_NONBLOCK);
c_static_assert(IPC_O_CLOEXEC == O_CLOEXEC);

// pipe2(2) and eventfd(2) flags.
c_static_assert(IPC_PIPE_NONBLOCK == O_NONBLOCK);
c_static_assert(IPC_PIPE_DIRECT == O_DIRECT);
c_static_assert(IPC_PIPE_CLOEXEC == O_CLOEXEC);
c_static_assert((int)IPC_EFD_SEMAPHORE == (int)EFD_SEMAPHORE);
c_static_assert((int)IPC_EFD_NONBLOCK == (int)EFD_NONBLOCK);
c_static_assert((int)IPC_EFD_CLOEXEC == (int)EFD_CLOEXEC);

// poll(2) and epoll(7) events: one set of values serves both.
c_static_assert(IPC_POLLIN == POLLIN && (int)IPC_POLLIN == (int)EPOLLIN);
c_static_assert(IPC_POLLPRI == POLLPRI && (int)IPC_POLLPRI == (int)EPOLLPRI);
c_static_assert(IPC_POLLOUT == POLLOUT && (int)IPC_POLLOUT == (int)EPOLLOUT);
c_static_assert(IPC_POLLERR == POLLERR && (int)IPC_POLLERR == (int)EPOLLERR);
c_static_assert(IPC_POLLHUP == POLLHUP && (int)IPC_POLLHUP == (int)EPOLLHUP);
c_static_assert(IPC_POLLNVAL == POLLNVAL);
c_static_assert(IPC_POLLRDHUP == POLLRDHUP && (int)IPC_POLLRDHUP == (int)EPOLLRDHUP);
c_static_assert(IPC_EPOLLET == (int32_t)EPOLLET);
c_static_assert((int)IPC_EPOLL_CTL_ADD == EPOLL_CTL_ADD);
c_static_assert((int)IPC_EPOLL_CTL_DEL == EPOLL_CTL_DEL);
c_static_assert((int)IPC_EPOLL_CTL_MOD == EPOLL_CTL_MOD);

// flock(2).
c_static_assert(IPC_LOCK_SH == LOCK_SH);
c_static_assert(IPC_LOCK_EX == LOCK_EX);
c_static_assert(IPC_LOCK_NB == LOCK_NB);
c_static_assert(IPC_LOCK_UN == LOCK_UN);

// IpcFileStatus: 0 size, 8 mode, 12 uid, 16 gid, 20 type; size 24.
c_static_assert(sizeof(IpcFileStatus) == 24);
c_static_assert(offsetof(IpcFileStatus, size) == 0);
c_static_assert(offsetof(IpcFileStatus, mode) == 8);
c_static_assert(offsetof(IpcFileStatus, uid) == 12);
c_static_assert(offsetof(IpcFileStatus, gid) == 16);
c_static_assert(offsetof(IpcFileStatus, isFifo) == 20);

// IpcPollFd is struct pollfd, so the caller's array goes to poll(2) as it is.
c_static_assert(sizeof(IpcPollFd) == 8);
c_static_assert(offsetof(IpcPollFd, fd) == 0);
c_static_assert(offsetof(IpcPollFd, events) == 4);
c_static_assert(offsetof(IpcPollFd, revents) == 6);
c_static_assert(sizeof(IpcPollFd) == sizeof(struct pollfd));
c_static_assert(offsetof(IpcPollFd, fd) == offsetof(struct pollfd, fd));
c_static_assert(offsetof(IpcPollFd, events) == offsetof(struct pollfd, events));
c_static_assert(offsetof(IpcPollFd, revents) == offsetof(struct pollfd, revents));

// IpcEpollEvent: 0 data, 8 events, 12 reserved; size 16. The kernel's x86-64 epoll_event is packed
// (12 bytes), so EpollWait widens the entries in place.
c_static_assert(sizeof(IpcEpollEvent) == 16);
c_static_assert(offsetof(IpcEpollEvent, data) == 0);
c_static_assert(offsetof(IpcEpollEvent, events) == 8);
c_static_assert(offsetof(IpcEpollEvent, reserved) == 12);
c_static_assert(sizeof(struct epoll_event) <= sizeof(IpcEpollEvent));

#define IPC_OPEN_FLAGS_KNOWN \
    (IPC_O_WRONLY | IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL | IPC_O_NOCTTY | IPC_O_TRUNC | IPC_O_NONBLOCK | IPC_O_CLOEXEC)
#define IPC_PIPE_FLAGS_KNOWN (IPC_PIPE_NONBLOCK | IPC_PIPE_DIRECT | IPC_PIPE_CLOEXEC)
#define IPC_EFD_FLAGS_KNOWN (IPC_EFD_SEMAPHORE | IPC_EFD_NONBLOCK | IPC_EFD_CLOEXEC)
#define IPC_EPOLL_EVENTS_KNOWN \
    ((uint32_t)(IPC_POLLIN | IPC_POLLPRI | IPC_POLLOUT | IPC_POLLERR | IPC_POLLHUP | IPC_POLLRDHUP) | (uint32_t)IPC_EPOLLET)
#define IPC_MODE_BITS 07777

int32_t IpcNative_Close(int32_t fd)
{
    // Not retried on EINTR: Linux releases the descriptor before it can report EINTR, and a
    // second close could hit a descriptor another thread has opened since.
    if (close(fd) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_Dup(IpcFd fd)
{
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return copy < 0 ? ipc_neg_errno() : copy;
}

int32_t IpcNative_DropPrivileges(uint32_t uid, uint32_t gid)
{
    // Groups first, then the gid, then the uid: once the uid is gone nothing else may change.
    if (setgroups(0, NULL) < 0)
        return ipc_neg_errno();
    if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
        return ipc_neg_errno();
    if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_Read(IpcFd fd, uint8_t* buf, int32_t len)
{
    if (len < 0)
        return -EINVAL;
    ssize_t result;
    IPC_RETRY_EINTR(result, read(fd, buf, (size_t)len));
    return result < 0 ? ipc_neg_errno() : (int32_t)result;
}

int32_t IpcNative_Write(IpcFd fd, const uint8_t* buf, int32_t len)
{
    if (len < 0)
        return -EINVAL;
    // write(2) on a socket whose peer is gone raises SIGPIPE; send(MSG_NOSIGNAL) does the same
    // write without the signal. ENOTSOCK (a pipe, FIFO or file) costs one cheap failed call.
    ssize_t result;
    IPC_RETRY_EINTR(result, send(fd, buf, (size_t)len, MSG_NOSIGNAL));
    if (result < 0 && errno == ENOTSOCK)
        IPC_RETRY_EINTR(result, write(fd, buf, (size_t)len));
    return result < 0 ? ipc_neg_errno() : (int32_t)result;
}

int32_t IpcNative_WritePipe(IpcFd fd, const uint8_t* buf, int32_t len)
{
    if (len < 0)
        return -EINVAL;
    ssize_t result;
    IPC_RETRY_EINTR(result, write(fd, buf, (size_t)len));
    return result < 0 ? ipc_neg_errno() : (int32_t)result;
}

int32_t IpcNative_Open(const char* path, int32_t flags, int32_t mode)
{
    if (path == NULL || (flags & ~IPC_OPEN_FLAGS_KNOWN) != 0 || (flags & O_ACCMODE) == O_ACCMODE)
        return -EINVAL;
    if ((flags & IPC_O_CREAT) != 0 && (mode & ~IPC_MODE_BITS) != 0)
        return -EINVAL;
    int fd;
    IPC_RETRY_EINTR(fd, open(path, flags | O_CLOEXEC, (mode_t)mode));
    return fd < 0 ? ipc_neg_errno() : fd;
}

int32_t IpcNative_Unlink(const char* path)
{
    if (path == NULL)
        return -EINVAL;
    if (unlink(path) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_MkFifo(const char* path, int32_t mode)
{
    if (path == NULL || (mode & ~IPC_MODE_BITS) != 0)
        return -EINVAL;
    if (mkfifo(path, (mode_t)mode) < 0)
        return ipc_neg_errno();
    // mkfifo applied the umask; set the exact mode without following a symlink (the umask is
    // process-wide, so changing it around mkfifo would race with other threads).
    if (fchmodat(AT_FDCWD, path, (mode_t)mode, AT_SYMLINK_NOFOLLOW) < 0)
    {
        int32_t err = ipc_neg_errno();
        unlink(path);
        return err;
    }
    return 0;
}

int32_t IpcNative_Pipe2(int32_t* fds, int32_t flags)
{
    if (fds == NULL || (flags & ~IPC_PIPE_FLAGS_KNOWN) != 0)
        return -EINVAL;
    int pair[2];
    if (pipe2(pair, flags | O_CLOEXEC) < 0)
        return ipc_neg_errno();
    fds[0] = pair[0];
    fds[1] = pair[1];
    return 0;
}

int32_t IpcNative_GetPipeSize(IpcFd fd)
{
    int result = fcntl(fd, F_GETPIPE_SZ);
    return result < 0 ? ipc_neg_errno() : result;
}

int32_t IpcNative_SetPipeSize(IpcFd fd, int32_t size)
{
    if (size <= 0)
        return -EINVAL;
    int result = fcntl(fd, F_SETPIPE_SZ, size);
    return result < 0 ? ipc_neg_errno() : result;
}

int32_t IpcNative_GetPipeBuf(void)
{
    return PIPE_BUF;
}

int32_t IpcNative_EventFd(uint32_t initval, int32_t flags)
{
    if ((flags & ~IPC_EFD_FLAGS_KNOWN) != 0)
        return -EINVAL;
    int fd = eventfd(initval, flags | EFD_CLOEXEC);
    return fd < 0 ? ipc_neg_errno() : fd;
}

int32_t IpcNative_EventFdWrite(IpcFd fd, uint64_t value)
{
    ssize_t result;
    IPC_RETRY_EINTR(result, write(fd, &value, sizeof(value)));
    if (result < 0)
        return ipc_neg_errno();
    // An eventfd moves exactly 8 bytes; anything else means fd is not an eventfd.
    return result == (ssize_t)sizeof(value) ? 0 : -EINVAL;
}

int32_t IpcNative_EventFdRead(IpcFd fd, uint64_t* value)
{
    if (value == NULL)
        return -EINVAL;
    uint64_t counter;
    ssize_t result;
    IPC_RETRY_EINTR(result, read(fd, &counter, sizeof(counter)));
    if (result < 0)
        return ipc_neg_errno();
    if (result != (ssize_t)sizeof(counter))
        return -EINVAL;
    *value = counter;
    return 0;
}

int32_t IpcNative_SetNonBlocking(IpcFd fd, int32_t nonBlocking)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return ipc_neg_errno();
    int wanted = nonBlocking != 0 ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_GetNonBlocking(IpcFd fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return ipc_neg_errno();
    return (flags & O_NONBLOCK) != 0 ? 1 : 0;
}

int32_t IpcNative_GetCloseOnExec(IpcFd fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0)
        return ipc_neg_errno();
    return (flags & FD_CLOEXEC) != 0 ? 1 : 0;
}

int32_t IpcNative_FStat(IpcFd fd, IpcFileStatus* status)
{
    if (status == NULL)
        return -EINVAL;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return ipc_neg_errno();
    status->size = (int64_t)st.st_size;
    status->mode = (uint32_t)st.st_mode;
    status->uid = (uint32_t)st.st_uid;
    status->gid = (uint32_t)st.st_gid;
    status->isFifo = S_ISFIFO(st.st_mode) ? 1 : 0;
    return 0;
}

int32_t IpcNative_Flock(IpcFd fd, int32_t operation)
{
    // Exactly one of SH, EX, UN, optionally with NB.
    int kind = operation & ~IPC_LOCK_NB;
    if (kind != IPC_LOCK_SH && kind != IPC_LOCK_EX && kind != IPC_LOCK_UN)
        return -EINVAL;
    int result;
    IPC_RETRY_EINTR(result, flock(fd, operation));
    return result < 0 ? ipc_neg_errno() : 0;
}

int32_t IpcNative_Poll(IpcPollFd* fds, int32_t count, int32_t timeoutMs)
{
    if (count < 0 || timeoutMs < -1 || (fds == NULL && count > 0))
        return -EINVAL;
    int64_t deadline = timeoutMs >= 0 ? ipc_clock_ns(CLOCK_MONOTONIC) + (int64_t)timeoutMs * IPC_NS_PER_MS : 0;
    int remainingMs = timeoutMs;
    for (;;)
    {
        int result = poll((struct pollfd*)fds, (nfds_t)count, remainingMs);
        if (result >= 0)
            return result;
        if (errno != EINTR)
            return ipc_neg_errno();
        if (timeoutMs >= 0)
        {
            // Wait only for what is left of the original timeout, rounded up to whole ms so a
            // retry never returns before the deadline.
            int64_t left = deadline - ipc_clock_ns(CLOCK_MONOTONIC);
            if (left <= 0)
                return 0;
            remainingMs = (int)((left + IPC_NS_PER_MS - 1) / IPC_NS_PER_MS);
        }
    }
}

int32_t IpcNative_EpollCreate(void)
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? ipc_neg_errno() : fd;
}

int32_t IpcNative_EpollCtl(IpcFd epfd, int32_t op, int32_t fd, uint32_t events, uint64_t data)
{
    if (op != IPC_EPOLL_CTL_ADD && op != IPC_EPOLL_CTL_DEL && op != IPC_EPOLL_CTL_MOD)
        return -EINVAL;
    if ((events & ~IPC_EPOLL_EVENTS_KNOWN) != 0)
        return -EINVAL;
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = data;
    if (epoll_ctl(epfd, op, fd, &event) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_EpollWait(IpcFd epfd, IpcEpollEvent* events, int32_t maxEvents, int32_t timeoutMs)
{
    if (events == NULL || maxEvents <= 0 || timeoutMs < -1)
        return -EINVAL;
    // The kernel writes packed 12-byte entries; they fit in the caller's 16-byte slots, so let it
    // write into the same buffer, then widen from the last entry down. Entry i moves from 12*i to
    // 16*i, which never overlaps a packed entry below i that is still to be read.
    struct epoll_event* packed = (struct epoll_event*)(void*)events;
    int count = epoll_wait(epfd, packed, maxEvents, timeoutMs);
    if (count < 0)
        return ipc_neg_errno(); // EINTR included: reported, as the prototype says
    for (int i = count - 1; i >= 0; i--)
    {
        struct epoll_event entry;
        memcpy(&entry, (const uint8_t*)events + (size_t)i * sizeof(struct epoll_event), sizeof(entry));
        IpcEpollEvent wide;
        wide.data = entry.data.u64;
        wide.events = entry.events;
        wide.reserved = 0;
        memcpy(&events[i], &wide, sizeof(wide));
    }
    return count;
}
