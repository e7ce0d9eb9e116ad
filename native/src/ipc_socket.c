// ipc_socket.c - UNIX domain sockets, descriptor passing and peer credentials.

#include "ipc_common.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// The kernel's SCM_MAX_FD (include/net/scm.h) is not exported to user space.
#ifndef SCM_MAX_FD
#define SCM_MAX_FD 253
#endif

c_static_assert((int)IPC_SOCK_STREAM == (int)SOCK_STREAM);
c_static_assert((int)IPC_SOCK_DGRAM == (int)SOCK_DGRAM);
c_static_assert((int)IPC_SOCK_SEQPACKET == (int)SOCK_SEQPACKET);
c_static_assert((int)IPC_SOCK_NONBLOCK == (int)SOCK_NONBLOCK);
c_static_assert((int)IPC_SOCK_CLOEXEC == (int)SOCK_CLOEXEC);
c_static_assert((int)IPC_MSG_PEEK == (int)MSG_PEEK);
c_static_assert((int)IPC_MSG_DONTWAIT == (int)MSG_DONTWAIT);
c_static_assert((int)IPC_MSG_WAITALL == (int)MSG_WAITALL);
c_static_assert((int)IPC_MSG_NOSIGNAL == (int)MSG_NOSIGNAL);
c_static_assert((int)IPC_SHUT_RD == (int)SHUT_RD);
c_static_assert((int)IPC_SHUT_WR == (int)SHUT_WR);
c_static_assert((int)IPC_SHUT_RDWR == (int)SHUT_RDWR);
c_static_assert(IPC_MAX_FDS_PER_MSG == SCM_MAX_FD);
c_static_assert(IPC_UNIX_PATH_MAX == sizeof(((struct sockaddr_un*)0)->sun_path) - 1);

// IpcPeerCred is struct ucred: 0 pid, 4 uid, 8 gid; size 12.
c_static_assert(sizeof(IpcPeerCred) == 12);
c_static_assert(offsetof(IpcPeerCred, pid) == 0);
c_static_assert(offsetof(IpcPeerCred, uid) == 4);
c_static_assert(offsetof(IpcPeerCred, gid) == 8);
c_static_assert(sizeof(struct ucred) == sizeof(IpcPeerCred));

#define IPC_SOCK_FLAGS (IPC_SOCK_NONBLOCK | IPC_SOCK_CLOEXEC)
// Sending takes the flags that mean something for a send; MSG_NOSIGNAL is added anyway.
#define IPC_SEND_FLAGS_KNOWN (IPC_MSG_DONTWAIT | IPC_MSG_NOSIGNAL)
// Receiving takes every IPC_MSG_* flag (MSG_NOSIGNAL is meaningless there and harmless).
#define IPC_RECV_FLAGS_KNOWN (IPC_MSG_PEEK | IPC_MSG_DONTWAIT | IPC_MSG_WAITALL | IPC_MSG_NOSIGNAL)

// A control buffer with room for the most descriptors one message may carry, aligned for cmsghdr.
typedef union
{
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(sizeof(int) * SCM_MAX_FD)];
} ControlBuffer;

// Checks an IPC_SOCK_* type: one base type plus NONBLOCK/CLOEXEC bits.
static int CheckSocketType(int32_t type)
{
    int base = type & ~IPC_SOCK_FLAGS;
    return base == IPC_SOCK_STREAM || base == IPC_SOCK_DGRAM || base == IPC_SOCK_SEQPACKET;
}

// Fills a filesystem sockaddr_un for path. Returns the address length or -errno.
static int32_t MakeAddress(const char* path, struct sockaddr_un* address)
{
    if (path == NULL || path[0] == '\0')
        return -EINVAL;
    size_t length = strlen(path);
    if (length > IPC_UNIX_PATH_MAX)
        return -ENAMETOOLONG;
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, path, length + 1);
    return (int32_t)(offsetof(struct sockaddr_un, sun_path) + length + 1);
}

int32_t IpcNative_UnixSocket(int32_t type)
{
    if (!CheckSocketType(type))
        return -EINVAL;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    return fd < 0 ? ipc_neg_errno() : fd;
}

int32_t IpcNative_UnixSocketPair(int32_t type, int32_t* fds)
{
    if (fds == NULL || !CheckSocketType(type))
        return -EINVAL;
    int pair[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) < 0)
        return ipc_neg_errno();
    fds[0] = pair[0];
    fds[1] = pair[1];
    return 0;
}

int32_t IpcNative_UnixBind(IpcFd fd, const char* path)
{
    struct sockaddr_un address;
    int32_t length = MakeAddress(path, &address);
    if (length < 0)
        return length;
    if (bind(fd, (const struct sockaddr*)&address, (socklen_t)length) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_UnixConnect(IpcFd fd, const char* path)
{
    struct sockaddr_un address;
    int32_t length = MakeAddress(path, &address);
    if (length < 0)
        return length;
    // An AF_UNIX connect interrupted while waiting for backlog room has not connected yet, so
    // retrying it is safe (unlike TCP, where EINTR leaves the connection in progress).
    int result;
    IPC_RETRY_EINTR(result, connect(fd, (const struct sockaddr*)&address, (socklen_t)length));
    return result < 0 ? ipc_neg_errno() : 0;
}

int32_t IpcNative_Listen(IpcFd fd, int32_t backlog)
{
    if (listen(fd, backlog) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_Accept(IpcFd fd, int32_t flags)
{
    if ((flags & ~IPC_SOCK_FLAGS) != 0)
        return -EINVAL;
    int accepted;
    IPC_RETRY_EINTR(accepted, accept4(fd, NULL, NULL, flags | SOCK_CLOEXEC));
    return accepted < 0 ? ipc_neg_errno() : accepted;
}

int32_t IpcNative_Shutdown(IpcFd fd, int32_t how)
{
    if (how != IPC_SHUT_RD && how != IPC_SHUT_WR && how != IPC_SHUT_RDWR)
        return -EINVAL;
    if (shutdown(fd, how) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_GetPeerCred(IpcFd fd, IpcPeerCred* cred)
{
    if (cred == NULL)
        return -EINVAL;
    struct ucred peer;
    socklen_t length = sizeof(peer);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) < 0)
        return ipc_neg_errno();
    cred->pid = peer.pid;
    cred->uid = peer.uid;
    cred->gid = peer.gid;
    return 0;
}

// which: 1 = SO_SNDBUF, 0 = SO_RCVBUF. Returns the option or -EINVAL.
static int BufferOption(int32_t which)
{
    return which == 1 ? SO_SNDBUF : which == 0 ? SO_RCVBUF : -EINVAL;
}

int32_t IpcNative_SetSocketBuffer(IpcFd fd, int32_t which, int32_t bytes)
{
    int option = BufferOption(which);
    if (option < 0 || bytes < 0)
        return -EINVAL;
    int value = bytes;
    if (setsockopt(fd, SOL_SOCKET, option, &value, sizeof(value)) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_GetSocketBuffer(IpcFd fd, int32_t which)
{
    int option = BufferOption(which);
    if (option < 0)
        return -EINVAL;
    int value = 0;
    socklen_t length = sizeof(value);
    if (getsockopt(fd, SOL_SOCKET, option, &value, &length) < 0)
        return ipc_neg_errno();
    return value;
}

int32_t IpcNative_SendMsg(IpcFd fd, const uint8_t* buf, int32_t len, const int32_t* fds, int32_t fdCount, int32_t flags)
{
    if (len < 0 || (buf == NULL && len > 0))
        return -EINVAL;
    if (fdCount < 0 || fdCount > IPC_MAX_FDS_PER_MSG || (fds == NULL && fdCount > 0))
        return -EINVAL;
    // A stream socket sends nothing, descriptors included, for an empty payload.
    if (fdCount > 0 && len == 0)
        return -EINVAL;
    if ((flags & ~IPC_SEND_FLAGS_KNOWN) != 0)
        return -EINVAL;

    struct iovec iov;
    iov.iov_base = (void*)(uintptr_t)buf;
    iov.iov_len = (size_t)len;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    ControlBuffer control;
    if (fdCount > 0)
    {
        size_t fdBytes = sizeof(int) * (size_t)fdCount;
        memset(control.bytes, 0, CMSG_SPACE(fdBytes));
        msg.msg_control = control.bytes;
        msg.msg_controllen = CMSG_SPACE(fdBytes);
        struct cmsghdr* header = CMSG_FIRSTHDR(&msg);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(fdBytes);
        memcpy(CMSG_DATA(header), fds, fdBytes);
    }

    // MSG_NOSIGNAL always: a vanished peer is -EPIPE, never a SIGPIPE that kills the host.
    ssize_t sent;
    IPC_RETRY_EINTR(sent, sendmsg(fd, &msg, flags | MSG_NOSIGNAL));
    return sent < 0 ? ipc_neg_errno() : (int32_t)sent;
}

// Closes every descriptor an SCM_RIGHTS message delivered into msg's control buffer.
static void CloseReceived(struct msghdr* msg)
{
    for (struct cmsghdr* header = CMSG_FIRSTHDR(msg); header != NULL; header = CMSG_NXTHDR(msg, header))
    {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const uint8_t* data = CMSG_DATA(header);
        for (size_t i = 0; i < count; i++)
        {
            int received;
            memcpy(&received, data + i * sizeof(int), sizeof(int));
            close(received);
        }
    }
}

// The arguments both receive calls take.
static int CheckReceiveArgs(const uint8_t* buf, int32_t len, const int32_t* fds, int32_t maxFds, const int32_t* fdCount, int32_t flags)
{
    if (len < 0 || (buf == NULL && len > 0))
        return 0;
    if (maxFds < 0 || maxFds > IPC_MAX_FDS_PER_MSG || (maxFds > 0 && (fds == NULL || fdCount == NULL)))
        return 0;
    return (flags & ~IPC_RECV_FLAGS_KNOWN) == 0;
}

// recvmsg(2) with room for exactly maxFds descriptors, which it hands out in fds[0..*fdCount). Returns the
// bytes received or -errno. When the message was cut (MSG_CTRUNC: descriptors that did not fit or could not be
// installed, EMFILE; MSG_TRUNC: a datagram longer than len) every descriptor received is closed, none is handed
// out and *cut is 1.
static int32_t ReceiveWithRights(IpcFd fd, uint8_t* buf, int32_t len, int32_t* fds, int32_t maxFds, int32_t* fdCount, int32_t flags, int* cut)
{
    *cut = 0;
    struct iovec iov;
    iov.iov_base = buf;
    iov.iov_len = (size_t)len;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    // Offer exactly maxFds slots: CMSG_LEN, not CMSG_SPACE, whose padding would let the kernel
    // install one descriptor more than the caller has room for. With no room at all a message
    // carrying descriptors comes back with MSG_CTRUNC and the kernel drops them.
    ControlBuffer control;
    if (maxFds > 0)
    {
        memset(control.bytes, 0, sizeof(control.bytes));
        msg.msg_control = control.bytes;
        msg.msg_controllen = CMSG_LEN(sizeof(int) * (size_t)maxFds);
    }

    ssize_t received;
    IPC_RETRY_EINTR(received, recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC));
    if (received < 0)
        return ipc_neg_errno();

    if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0)
    {
        // Part of the message is gone: hand out nothing, leak nothing.
        CloseReceived(&msg);
        *cut = 1;
        return (int32_t)received;
    }

    int32_t count = 0;
    for (struct cmsghdr* header = CMSG_FIRSTHDR(&msg); header != NULL; header = CMSG_NXTHDR(&msg, header))
    {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        if ((size_t)count + n > (size_t)maxFds)
        {
            // Never expected (the kernel honours msg_controllen), but never write past fds.
            CloseReceived(&msg);
            *cut = 1;
            return (int32_t)received;
        }
        memcpy(fds + count, CMSG_DATA(header), n * sizeof(int));
        count += (int32_t)n;
    }
    if (fdCount != NULL)
        *fdCount = count;
    return (int32_t)received;
}

int32_t IpcNative_RecvMsg(IpcFd fd, uint8_t* buf, int32_t len, int32_t* fds, int32_t maxFds, int32_t* fdCount, int32_t flags)
{
    if (fdCount != NULL)
        *fdCount = 0;
    if (!CheckReceiveArgs(buf, len, fds, maxFds, fdCount, flags))
        return -EINVAL;
    int cut;
    int32_t received = ReceiveWithRights(fd, buf, len, fds, maxFds, fdCount, flags, &cut);
    return cut ? -EMSGSIZE : received;
}

int32_t IpcNative_RecvStream(IpcFd fd, uint8_t* buf, int32_t len, int32_t* fds, int32_t maxFds, int32_t* fdCount, int32_t* lost, int32_t flags)
{
    if (fdCount != NULL)
        *fdCount = 0;
    if (lost != NULL)
        *lost = 0;
    if (lost == NULL || !CheckReceiveArgs(buf, len, fds, maxFds, fdCount, flags))
        return -EINVAL;
    // On a stream the bytes count even when the batch is lost: the caller's framing goes on, and it can tell
    // the message its descriptors did not come.
    int cut;
    int32_t received = ReceiveWithRights(fd, buf, len, fds, maxFds, fdCount, flags, &cut);
    *lost = cut;
    return received;
}
