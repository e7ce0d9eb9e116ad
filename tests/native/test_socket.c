// test_socket.c - UNIX domain sockets, SCM_RIGHTS descriptor passing and peer credentials.

#include "ipctest.h"

#include <sys/resource.h>

static int32_t closed_fd(void)
{
    int32_t fd = (int32_t)PASS(IpcNative_EventFd(0, 0));
    PASS(IpcNative_Close(fd));
    return fd;
}

static void close_all(const int32_t* fds, int32_t count)
{
    for (int32_t i = 0; i < count; i++)
        PASS(IpcNative_Close(fds[i]));
}

static void test_socket_types(void)
{
    static const int32_t types[] = { IPC_SOCK_STREAM, IPC_SOCK_DGRAM, IPC_SOCK_SEQPACKET };
    for (int i = 0; i < 3; i++)
    {
        int32_t fd = (int32_t)PASS(IpcNative_UnixSocket(types[i]));
        CHECK_EQ(IpcNative_GetCloseOnExec(fd), 1);
        CHECK_EQ(IpcNative_GetNonBlocking(fd), 0);
        PASS(IpcNative_Close(fd));

        fd = (int32_t)PASS(IpcNative_UnixSocket(types[i] | IPC_SOCK_NONBLOCK | IPC_SOCK_CLOEXEC));
        CHECK_EQ(IpcNative_GetNonBlocking(fd), 1);
        CHECK_EQ(IpcNative_GetCloseOnExec(fd), 1);
        PASS(IpcNative_Close(fd));

        int32_t pair[2] = { -1, -1 };
        PASS(IpcNative_UnixSocketPair(types[i] | IPC_SOCK_NONBLOCK, pair));
        CHECK_EQ(IpcNative_GetCloseOnExec(pair[0]), 1);
        CHECK_EQ(IpcNative_GetCloseOnExec(pair[1]), 1);
        CHECK_EQ(IpcNative_GetNonBlocking(pair[1]), 1);
        close_all(pair, 2);
    }
    int32_t pair[2];
    FAIL(IpcNative_UnixSocket(3 /* SOCK_RAW */), EINVAL);
    FAIL(IpcNative_UnixSocket(0), EINVAL);
    FAIL(IpcNative_UnixSocket(IPC_SOCK_STREAM | 0x4000), EINVAL);
    FAIL(IpcNative_UnixSocketPair(3, pair), EINVAL);
    FAIL(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, NULL), EINVAL);
}

static void test_pair_data(void)
{
    int32_t sv[2];
    PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));
    uint8_t buf[64] = { 0 };
    int32_t fds[4];
    int32_t count = -1;

    // Plain Write/Read work on sockets, and SendMsg/RecvMsg without descriptors.
    CHECK_EQ(PASS(IpcNative_Write(sv[0], (const uint8_t*)"plain", 5)), 5);
    CHECK_EQ(PASS(IpcNative_Read(sv[1], buf, sizeof(buf))), 5);
    CHECK_EQ(PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"message", 7, NULL, 0, 0)), 7);
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), fds, 4, &count, 0)), 7);
    CHECK_EQ(count, 0);
    CHECK(memcmp(buf, "message", 7) == 0);
    // No room for descriptors asked for (and none sent): fds and fdCount may be NULL.
    PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"x", 1, NULL, 0, IPC_MSG_NOSIGNAL));
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), NULL, 0, NULL, 0)), 1);

    // MSG_DONTWAIT on an empty socket.
    FAIL(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), fds, 4, &count, IPC_MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(count, 0);
    // MSG_PEEK leaves the data in place.
    PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"peek", 4, NULL, 0, IPC_MSG_DONTWAIT));
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), fds, 4, &count, IPC_MSG_PEEK)), 4);
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), fds, 4, &count, 0)), 4);
    // MSG_WAITALL gathers two sends into one full read.
    PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"ab", 2, NULL, 0, 0));
    PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"cd", 2, NULL, 0, 0));
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, 4, fds, 4, &count, IPC_MSG_WAITALL)), 4);
    CHECK(memcmp(buf, "abcd", 4) == 0);

    // Argument errors.
    int32_t one = sv[0];
    FAIL(IpcNative_SendMsg(sv[0], buf, -1, NULL, 0, 0), EINVAL);
    FAIL(IpcNative_SendMsg(sv[0], NULL, 1, NULL, 0, 0), EINVAL);
    FAIL(IpcNative_SendMsg(sv[0], buf, 1, &one, -1, 0), EINVAL);
    FAIL(IpcNative_SendMsg(sv[0], buf, 1, &one, IPC_MAX_FDS_PER_MSG + 1, 0), EINVAL);
    FAIL(IpcNative_SendMsg(sv[0], buf, 1, NULL, 1, 0), EINVAL);
    FAIL(IpcNative_SendMsg(sv[0], buf, 0, &one, 1, 0), EINVAL); // descriptors need a payload byte
    FAIL(IpcNative_SendMsg(sv[0], buf, 1, NULL, 0, IPC_MSG_PEEK), EINVAL);
    FAIL(IpcNative_SendMsg(sv[0], buf, 1, NULL, 0, 0x1 /* MSG_OOB */), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], buf, -1, fds, 4, &count, 0), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], NULL, 1, fds, 4, &count, 0), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], buf, 1, fds, -1, &count, 0), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], buf, 1, fds, IPC_MAX_FDS_PER_MSG + 1, &count, 0), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], buf, 1, NULL, 4, &count, 0), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], buf, 1, fds, 4, NULL, 0), EINVAL);
    FAIL(IpcNative_RecvMsg(sv[1], buf, 1, fds, 4, &count, 0x1 /* MSG_OOB */), EINVAL);

    // End of stream once the peer is gone.
    PASS(IpcNative_Close(sv[0]));
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), fds, 4, &count, 0)), 0);
    CHECK_EQ(count, 0);
    PASS(IpcNative_Close(sv[1]));

    int32_t bad = closed_fd();
    FAIL(IpcNative_SendMsg(bad, buf, 1, NULL, 0, 0), EBADF);
    FAIL(IpcNative_RecvMsg(bad, buf, 1, fds, 4, &count, 0), EBADF);
    int32_t pipeFds[2];
    PASS(IpcNative_Pipe2(pipeFds, 0));
    FAIL(IpcNative_RecvMsg(pipeFds[0], buf, 1, fds, 4, &count, 0), ENOTSOCK);
    FAIL(IpcNative_SendMsg(pipeFds[1], buf, 1, NULL, 0, 0), ENOTSOCK);
    close_all(pipeFds, 2);
}

// A vanished peer is -EPIPE and never SIGPIPE: checked in a child with SIGPIPE at its default
// action, so a signal would kill the child rather than the test program.
static void test_epipe_without_signal(void)
{
    pid_t child = ipct_fork();
    if (child == 0)
    {
        signal(SIGPIPE, SIG_DFL);
        int32_t sv[2];
        PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));
        PASS(IpcNative_Close(sv[1]));
        FAIL(IpcNative_SendMsg(sv[0], (const uint8_t*)"x", 1, NULL, 0, 0), EPIPE);
        FAIL(IpcNative_Write(sv[0], (const uint8_t*)"x", 1), EPIPE);
        PASS(IpcNative_Close(sv[0]));

        // After shutdown(SHUT_WR) of our own side, too.
        PASS(IpcNative_UnixSocketPair(IPC_SOCK_SEQPACKET, sv));
        PASS(IpcNative_Shutdown(sv[0], IPC_SHUT_WR));
        FAIL(IpcNative_Write(sv[0], (const uint8_t*)"x", 1), EPIPE);
        close_all(sv, 2);
        ipct_child_exit();
    }
    ipct_wait_child(child);
}

static void test_shutdown(void)
{
    int32_t sv[2];
    PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));
    uint8_t buf[8];
    PASS(IpcNative_Write(sv[0], (const uint8_t*)"last", 4));
    CHECK_EQ(PASS(IpcNative_Shutdown(sv[0], IPC_SHUT_WR)), 0);
    CHECK_EQ(PASS(IpcNative_Read(sv[1], buf, sizeof(buf))), 4);
    CHECK_EQ(PASS(IpcNative_Read(sv[1], buf, sizeof(buf))), 0); // end of stream
    // The other direction still works.
    PASS(IpcNative_Write(sv[1], (const uint8_t*)"back", 4));
    CHECK_EQ(PASS(IpcNative_Read(sv[0], buf, sizeof(buf))), 4);
    PASS(IpcNative_Shutdown(sv[0], IPC_SHUT_RD));
    PASS(IpcNative_Shutdown(sv[1], IPC_SHUT_RDWR));
    FAIL(IpcNative_Shutdown(sv[0], 3), EINVAL);
    FAIL(IpcNative_Shutdown(sv[0], -1), EINVAL);
    close_all(sv, 2);

    int32_t pipeFds[2];
    PASS(IpcNative_Pipe2(pipeFds, 0));
    FAIL(IpcNative_Shutdown(pipeFds[0], IPC_SHUT_RDWR), ENOTSOCK);
    close_all(pipeFds, 2);
    FAIL(IpcNative_Shutdown(closed_fd(), IPC_SHUT_RDWR), EBADF);
}

static void test_socket_buffers(void)
{
    int32_t sv[2];
    PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));
    int32_t send0 = (int32_t)PASS(IpcNative_GetSocketBuffer(sv[0], 1));
    int32_t recv0 = (int32_t)PASS(IpcNative_GetSocketBuffer(sv[0], 0));
    CHECK(send0 > 0 && recv0 > 0);
    // Linux doubles the value for its bookkeeping; at least what was asked for comes back.
    CHECK_EQ(PASS(IpcNative_SetSocketBuffer(sv[0], 1, 64 * 1024)), 0);
    CHECK(PASS(IpcNative_GetSocketBuffer(sv[0], 1)) >= 64 * 1024);
    CHECK_EQ(PASS(IpcNative_SetSocketBuffer(sv[0], 0, 32 * 1024)), 0);
    CHECK(PASS(IpcNative_GetSocketBuffer(sv[0], 0)) >= 32 * 1024);

    FAIL(IpcNative_SetSocketBuffer(sv[0], 2, 4096), EINVAL);
    FAIL(IpcNative_SetSocketBuffer(sv[0], -1, 4096), EINVAL);
    FAIL(IpcNative_SetSocketBuffer(sv[0], 1, -1), EINVAL);
    FAIL(IpcNative_GetSocketBuffer(sv[0], 2), EINVAL);
    close_all(sv, 2);

    int32_t bad = closed_fd();
    FAIL(IpcNative_SetSocketBuffer(bad, 1, 4096), EBADF);
    FAIL(IpcNative_GetSocketBuffer(bad, 1), EBADF);
    int32_t pipeFds[2];
    PASS(IpcNative_Pipe2(pipeFds, 0));
    FAIL(IpcNative_GetSocketBuffer(pipeFds[0], 0), ENOTSOCK);
    FAIL(IpcNative_SetSocketBuffer(pipeFds[0], 0, 4096), ENOTSOCK);
    close_all(pipeFds, 2);
}

static void test_bind_connect_accept(void)
{
    char path[256], other[256], missing[256], fileOnly[256];
    ipct_temp_path(path, sizeof(path), "listener.sock");
    ipct_temp_path(other, sizeof(other), "bound.sock");
    ipct_temp_path(missing, sizeof(missing), "missing.sock");
    ipct_temp_path(fileOnly, sizeof(fileOnly), "plain-file");

    int32_t listener = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM | IPC_SOCK_NONBLOCK));
    CHECK_EQ(PASS(IpcNative_UnixBind(listener, path)), 0);
    CHECK_EQ(PASS(IpcNative_Listen(listener, 8)), 0);
    // Nobody connecting yet: the non-blocking listener says so.
    FAIL(IpcNative_Accept(listener, 0), EAGAIN);

    // The address is taken, whatever the type of the second socket.
    int32_t second = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    FAIL(IpcNative_UnixBind(second, path), EADDRINUSE);
    PASS(IpcNative_Close(second));

    int32_t client = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    CHECK_EQ(PASS(IpcNative_UnixConnect(client, path)), 0);
    FAIL(IpcNative_UnixConnect(client, path), EISCONN);
    int32_t server = (int32_t)PASS(IpcNative_Accept(listener, IPC_SOCK_NONBLOCK));
    CHECK_EQ(IpcNative_GetCloseOnExec(server), 1);
    CHECK_EQ(IpcNative_GetNonBlocking(server), 1);
    PASS(IpcNative_Write(client, (const uint8_t*)"hi", 2));
    uint8_t buf[8];
    CHECK_EQ(PASS(IpcNative_Read(server, buf, sizeof(buf))), 2);
    // Same process at both ends.
    IpcPeerCred cred = { 0 };
    PASS(IpcNative_GetPeerCred(server, &cred));
    CHECK_EQ(cred.pid, getpid());
    FAIL(IpcNative_GetPeerCred(server, NULL), EINVAL);
    PASS(IpcNative_Close(server));
    PASS(IpcNative_Close(client));

    // A blocking accept (the connection is already queued).
    client = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    PASS(IpcNative_UnixConnect(client, path));
    PASS(IpcNative_SetNonBlocking(listener, 0));
    server = (int32_t)PASS(IpcNative_Accept(listener, IPC_SOCK_CLOEXEC));
    CHECK_EQ(IpcNative_GetNonBlocking(server), 0);
    CHECK_EQ(IpcNative_GetCloseOnExec(server), 1);
    PASS(IpcNative_Close(server));
    PASS(IpcNative_Close(client));
    FAIL(IpcNative_Accept(listener, 0x1), EINVAL);
    FAIL(IpcNative_Accept(listener, IPC_MSG_DONTWAIT), EINVAL);

    // A full backlog: a non-blocking connect says -EAGAIN.
    PASS(IpcNative_Listen(listener, 0));
    int32_t pending[8];
    int32_t made = 0;
    int32_t lastResult = 0;
    for (; made < 8; made++)
    {
        pending[made] = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM | IPC_SOCK_NONBLOCK));
        lastResult = IpcNative_UnixConnect(pending[made], path);
        if (lastResult < 0)
        {
            made++;
            break;
        }
    }
    FAIL(lastResult, EAGAIN);
    close_all(pending, made);

    // Connect errors: nothing there, something that is not a listening socket.
    client = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    FAIL(IpcNative_UnixConnect(client, missing), ENOENT);
    int32_t bound = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    PASS(IpcNative_UnixBind(bound, other));
    FAIL(IpcNative_UnixConnect(client, other), ECONNREFUSED);
    FAIL(IpcNative_Accept(bound, 0), EINVAL); // not listening
    PASS(IpcNative_Close(bound));
    int32_t file = (int32_t)PASS(IpcNative_Open(fileOnly, IPC_O_WRONLY | IPC_O_CREAT, 0600));
    PASS(IpcNative_Close(file));
    FAIL(IpcNative_UnixConnect(client, fileOnly), ECONNREFUSED);
    FAIL(IpcNative_UnixConnect(client, NULL), EINVAL);
    FAIL(IpcNative_UnixConnect(client, ""), EINVAL);
    PASS(IpcNative_Close(client));

    PASS(IpcNative_Close(listener));
    // The socket file stays after close; nobody listens on it any more.
    client = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    FAIL(IpcNative_UnixConnect(client, path), ECONNREFUSED);
    PASS(IpcNative_Close(client));

    int32_t bad = closed_fd();
    FAIL(IpcNative_UnixBind(bad, missing), EBADF);
    FAIL(IpcNative_UnixConnect(bad, path), EBADF);
    FAIL(IpcNative_Listen(bad, 1), EBADF);
    FAIL(IpcNative_Accept(bad, 0), EBADF);
    FAIL(IpcNative_GetPeerCred(bad, &cred), EBADF);

    PASS(IpcNative_Unlink(path));
    PASS(IpcNative_Unlink(other));
    PASS(IpcNative_Unlink(fileOnly));
}

static void test_path_lengths(void)
{
    // IPC_UNIX_PATH_MAX (107) bytes fit; one more does not.
    const char* dir = ipct_temp_dir();
    char path[IPC_UNIX_PATH_MAX + 2];
    size_t dirLength = strlen(dir);
    memcpy(path, dir, dirLength);
    path[dirLength] = '/';
    memset(path + dirLength + 1, 'p', IPC_UNIX_PATH_MAX - dirLength - 1);
    path[IPC_UNIX_PATH_MAX] = '\0';
    CHECK_EQ(strlen(path), IPC_UNIX_PATH_MAX);

    int32_t fd = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    CHECK_EQ(PASS(IpcNative_UnixBind(fd, path)), 0);
    PASS(IpcNative_Listen(fd, 1));
    int32_t client = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    PASS(IpcNative_UnixConnect(client, path));
    PASS(IpcNative_Close(client));
    PASS(IpcNative_Close(fd));
    PASS(IpcNative_Unlink(path));

    path[IPC_UNIX_PATH_MAX] = 'p';
    path[IPC_UNIX_PATH_MAX + 1] = '\0';
    fd = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    FAIL(IpcNative_UnixBind(fd, path), ENAMETOOLONG);
    FAIL(IpcNative_UnixConnect(fd, path), ENAMETOOLONG);
    FAIL(IpcNative_UnixBind(fd, ""), EINVAL);
    FAIL(IpcNative_UnixBind(fd, NULL), EINVAL);
    char missingDir[256];
    FAIL(IpcNative_UnixBind(fd, ipct_temp_path(missingDir, sizeof(missingDir), "no-such-dir/s")), ENOENT);
    PASS(IpcNative_Close(fd));
}

// The child connects to the parent's listener; each side sees the other's pid, uid and gid.
static void test_peer_credentials(void)
{
    char path[256];
    ipct_temp_path(path, sizeof(path), "peercred.sock");
    int32_t listener = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
    PASS(IpcNative_UnixBind(listener, path));
    PASS(IpcNative_Listen(listener, 4));
    pid_t parent = getpid();

    pid_t child = ipct_fork();
    if (child == 0)
    {
        int32_t fd = (int32_t)PASS(IpcNative_UnixSocket(IPC_SOCK_STREAM));
        PASS(IpcNative_UnixConnect(fd, path));
        IpcPeerCred cred = { 0 };
        PASS(IpcNative_GetPeerCred(fd, &cred));
        CHECK_EQ(cred.pid, parent);
        CHECK_EQ(cred.uid, geteuid());
        CHECK_EQ(cred.gid, getegid());
        // Stay connected until the parent has looked.
        uint8_t byte;
        CHECK_EQ(PASS(IpcNative_Read(fd, &byte, 1)), 1);
        PASS(IpcNative_Close(fd));
        PASS(IpcNative_Close(listener));
        ipct_child_exit();
    }

    int32_t server = (int32_t)PASS(IpcNative_Accept(listener, 0));
    IpcPeerCred cred = { 0 };
    PASS(IpcNative_GetPeerCred(server, &cred));
    CHECK_EQ(cred.pid, child);
    CHECK_EQ(cred.uid, geteuid());
    CHECK_EQ(cred.gid, getegid());
    PASS(IpcNative_Write(server, (const uint8_t*)"k", 1));
    ipct_wait_child(child);
    PASS(IpcNative_Close(server));
    PASS(IpcNative_Close(listener));
    PASS(IpcNative_Unlink(path));
}

// The parent sends an open file and a pipe's write end with a payload; the child reads the file
// through the received descriptor, checks both are close-on-exec and answers through the pipe.
static void test_scm_rights_across_fork(void)
{
    char path[256];
    ipct_temp_path(path, sizeof(path), "passed-file");
    static const char content[] = "content of the passed file";
    int32_t writer = (int32_t)PASS(IpcNative_Open(path, IPC_O_WRONLY | IPC_O_CREAT | IPC_O_EXCL, 0600));
    PASS(IpcNative_Write(writer, (const uint8_t*)content, sizeof(content)));
    PASS(IpcNative_Close(writer));
    // A fresh read-only open: its offset is 0 (the writer's is at the end).
    int32_t file = (int32_t)PASS(IpcNative_Open(path, IPC_O_RDONLY, 0));
    int32_t answer[2];
    PASS(IpcNative_Pipe2(answer, 0));
    int32_t sv[2];
    PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));

    pid_t child = ipct_fork();
    if (child == 0)
    {
        // Only the receiving end: everything else the child holds is closed first, so what it
        // uses can only have come through the socket.
        PASS(IpcNative_Close(sv[0]));
        PASS(IpcNative_Close(file));
        PASS(IpcNative_Close(answer[0]));
        PASS(IpcNative_Close(answer[1]));

        uint8_t buf[64] = { 0 };
        int32_t fds[4] = { -1, -1, -1, -1 };
        int32_t count = -1;
        int32_t length = (int32_t)PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), fds, 4, &count, 0));
        CHECK_EQ(length, 7);
        CHECK(memcmp(buf, "payload", 7) == 0);
        CHECK_EQ(count, 2);
        if (count == 2)
        {
            CHECK_EQ(IpcNative_GetCloseOnExec(fds[0]), 1);
            CHECK_EQ(IpcNative_GetCloseOnExec(fds[1]), 1);
            uint8_t text[64] = { 0 };
            CHECK_EQ(PASS(IpcNative_Read(fds[0], text, sizeof(text))), sizeof(content));
            CHECK_STR((const char*)text, content);
            IpcFileStatus status;
            PASS(IpcNative_FStat(fds[0], &status));
            CHECK_EQ(status.size, sizeof(content));
            PASS(IpcNative_Write(fds[1], (const uint8_t*)"read it", 7));
            close_all(fds, 2);
        }
        PASS(IpcNative_Close(sv[1]));
        ipct_child_exit();
    }

    int32_t passed[2] = { file, answer[1] };
    CHECK_EQ(PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"payload", 7, passed, 2, 0)), 7);
    // Our copies can go: the message holds its own references.
    PASS(IpcNative_Close(file));
    PASS(IpcNative_Close(answer[1]));
    uint8_t reply[16] = { 0 };
    CHECK_EQ(PASS(IpcNative_Read(answer[0], reply, sizeof(reply))), 7);
    CHECK(memcmp(reply, "read it", 7) == 0);
    ipct_wait_child(child);
    PASS(IpcNative_Close(answer[0]));
    close_all(sv, 2);
    PASS(IpcNative_Unlink(path));
}

// Sends count descriptors (copies of one pipe end) with a payload.
static int32_t send_fds(int32_t sock, int32_t fd, int32_t count, const char* payload)
{
    int32_t fds[IPC_MAX_FDS_PER_MSG];
    for (int32_t i = 0; i < count; i++)
        fds[i] = fd;
    return IpcNative_SendMsg(sock, (const uint8_t*)payload, (int32_t)strlen(payload), fds, count, 0);
}

static void test_descriptor_limits(void)
{
    int32_t sv[2];
    PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));
    int32_t pipeFds[2];
    PASS(IpcNative_Pipe2(pipeFds, 0));
    int32_t received[IPC_MAX_FDS_PER_MSG];
    int32_t count = -1;
    uint8_t buf[64];
    int baseline = ipct_count_fds();

    // Exactly as many slots as descriptors, for odd and even counts.
    for (int32_t n = 1; n <= 4; n++)
    {
        CHECK_EQ(PASS(send_fds(sv[0], pipeFds[1], n, "m")), 1);
        CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), received, n, &count, 0)), 1);
        CHECK_EQ(count, n);
        for (int32_t i = 0; i < count; i++)
            CHECK_EQ(IpcNative_GetCloseOnExec(received[i]), 1);
        close_all(received, count);
        CHECK_EQ(ipct_count_fds(), baseline);
    }

    // The most one message can carry.
    CHECK_EQ(PASS(send_fds(sv[0], pipeFds[1], IPC_MAX_FDS_PER_MSG, "max")), 3);
    CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), received, IPC_MAX_FDS_PER_MSG, &count, 0)), 3);
    CHECK_EQ(count, IPC_MAX_FDS_PER_MSG);
    CHECK_EQ(ipct_count_fds(), baseline + IPC_MAX_FDS_PER_MSG);
    close_all(received, count);
    CHECK_EQ(ipct_count_fds(), baseline);

    // More descriptors than slots (MSG_CTRUNC): -EMSGSIZE, nothing handed out, nothing leaked.
    // One slot for two descriptors checks the control buffer is not padded into a second slot.
    static const struct
    {
        int32_t sent;
        int32_t slots;
    } cases[] = { { 3, 2 }, { 2, 1 }, { 1, 0 }, { 5, 4 }, { IPC_MAX_FDS_PER_MSG, 1 } };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
    {
        PASS(send_fds(sv[0], pipeFds[1], cases[c].sent, "t"));
        count = -1;
        FAIL(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), received, cases[c].slots, &count, 0), EMSGSIZE);
        CHECK_EQ(count, 0);
        CHECK_EQ(ipct_count_fds(), baseline);
    }

    // A descriptor that is not open cannot be sent.
    FAIL(send_fds(sv[0], closed_fd(), 1, "b"), EBADF);
    CHECK_EQ(ipct_count_fds(), baseline);

    close_all(sv, 2);
    close_all(pipeFds, 2);
}

// A datagram or packet cut short (MSG_TRUNC) is -EMSGSIZE and its descriptors are closed.
static void test_truncated_datagrams(void)
{
    static const int32_t types[] = { IPC_SOCK_DGRAM, IPC_SOCK_SEQPACKET };
    for (int t = 0; t < 2; t++)
    {
        int32_t sv[2];
        PASS(IpcNative_UnixSocketPair(types[t], sv));
        int32_t pipeFds[2];
        PASS(IpcNative_Pipe2(pipeFds, 0));
        int baseline = ipct_count_fds();
        int32_t received[4];
        int32_t count = -1;
        uint8_t buf[64];

        PASS(send_fds(sv[0], pipeFds[0], 2, "0123456789"));
        FAIL(IpcNative_RecvMsg(sv[1], buf, 4, received, 4, &count, 0), EMSGSIZE);
        CHECK_EQ(count, 0);
        CHECK_EQ(ipct_count_fds(), baseline);

        PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"0123456789", 10, NULL, 0, 0));
        FAIL(IpcNative_RecvMsg(sv[1], buf, 4, received, 4, &count, 0), EMSGSIZE);

        // Whole messages keep their boundaries.
        PASS(send_fds(sv[0], pipeFds[0], 1, "abc"));
        PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"de", 2, NULL, 0, 0));
        CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), received, 4, &count, 0)), 3);
        CHECK_EQ(count, 1);
        close_all(received, count);
        CHECK_EQ(PASS(IpcNative_RecvMsg(sv[1], buf, sizeof(buf), received, 4, &count, 0)), 2);
        CHECK_EQ(count, 0);
        CHECK_EQ(ipct_count_fds(), baseline);

        close_all(sv, 2);
        close_all(pipeFds, 2);
    }
}

// A stream that lost a batch of descriptors (MSG_CTRUNC) keeps its bytes: RecvStream reports the loss
// and closes what did arrive; a later batch arrives whole.
static void test_recv_stream(void)
{
    int32_t sv[2];
    PASS(IpcNative_UnixSocketPair(IPC_SOCK_STREAM, sv));
    int32_t pipeFds[2];
    PASS(IpcNative_Pipe2(pipeFds, 0));
    int baseline = ipct_count_fds();
    int32_t received[IPC_MAX_FDS_PER_MSG];
    int32_t count = -1, lost = -1;
    uint8_t buf[64];

    // Bytes without descriptors, then a batch.
    PASS(IpcNative_SendMsg(sv[0], (const uint8_t*)"ab", 2, NULL, 0, 0));
    CHECK_EQ(PASS(send_fds(sv[0], pipeFds[1], 2, "cd")), 2);
    CHECK_EQ(PASS(IpcNative_RecvStream(sv[1], buf, sizeof(buf), received, IPC_MAX_FDS_PER_MSG, &count, &lost, 0)), 4);
    CHECK(memcmp(buf, "abcd", 4) == 0);
    CHECK_EQ(count, 2);
    CHECK_EQ(lost, 0);
    CHECK_EQ(IpcNative_GetCloseOnExec(received[0]), 1);
    close_all(received, count);
    CHECK_EQ(ipct_count_fds(), baseline);

    // Two batches never come back from one call.
    PASS(send_fds(sv[0], pipeFds[1], 1, "e"));
    PASS(send_fds(sv[0], pipeFds[1], 3, "f"));
    CHECK_EQ(PASS(IpcNative_RecvStream(sv[1], buf, sizeof(buf), received, IPC_MAX_FDS_PER_MSG, &count, &lost, 0)), 1);
    CHECK_EQ(count, 1);
    close_all(received, count);
    CHECK_EQ(PASS(IpcNative_RecvStream(sv[1], buf, sizeof(buf), received, IPC_MAX_FDS_PER_MSG, &count, &lost, 0)), 1);
    CHECK_EQ(count, 3);
    close_all(received, count);

    // Too few slots: the bytes come, the batch is reported lost, nothing leaks.
    PASS(send_fds(sv[0], pipeFds[1], 3, "gh"));
    CHECK_EQ(PASS(IpcNative_RecvStream(sv[1], buf, sizeof(buf), received, 2, &count, &lost, 0)), 2);
    CHECK(memcmp(buf, "gh", 2) == 0);
    CHECK_EQ(count, 0);
    CHECK_EQ(lost, 1);
    CHECK_EQ(ipct_count_fds(), baseline);

    // A full descriptor table (EMFILE) in a child: the same report. Not under valgrind, which keeps
    // its own descriptor limit that the kernel's recvmsg does not know of.
    const char* preload = getenv("LD_PRELOAD");
    int under_valgrind = preload != NULL && strstr(preload, "vgpreload") != NULL;
    PASS(send_fds(sv[0], pipeFds[1], 2, "ij"));
    pid_t child = under_valgrind ? -1 : ipct_fork();
    if (under_valgrind)
    {
        CHECK_EQ(PASS(IpcNative_RecvStream(sv[1], buf, sizeof(buf), received, 4, &count, &lost, 0)), 2);
        close_all(received, count);
    }
    else if (child == 0)
    {
        // Fill every free slot under a low limit.
        struct rlimit limit = { 64, 64 };
        CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
        int32_t fillers[64];
        int filled = 0;
        while (filled < 64)
        {
            int32_t copy = IpcNative_Dup(sv[1]);
            if (copy < 0)
            {
                CHECK_EQ(copy, -EMFILE);
                break;
            }
            fillers[filled++] = copy;
        }
        int32_t got[4];
        int32_t n = -1, gone = -1;
        uint8_t bytes[8];
        CHECK_EQ(PASS(IpcNative_RecvStream(sv[1], bytes, sizeof(bytes), got, 4, &n, &gone, 0)), 2);
        CHECK_EQ(n, 0);
        CHECK_EQ(gone, 1);
        close_all(fillers, filled);
        ipct_child_exit();
    }
    else
    {
        ipct_wait_child(child);
    }

    // Arguments.
    FAIL(IpcNative_RecvStream(sv[1], buf, sizeof(buf), received, 4, &count, NULL, 0), EINVAL);
    FAIL(IpcNative_RecvStream(sv[1], buf, -1, received, 4, &count, &lost, 0), EINVAL);
    FAIL(IpcNative_RecvStream(sv[1], buf, 1, received, IPC_MAX_FDS_PER_MSG + 1, &count, &lost, 0), EINVAL);
    FAIL(IpcNative_RecvStream(sv[1], buf, 1, received, 4, &count, &lost, IPC_MSG_DONTWAIT), EAGAIN);

    close_all(sv, 2);
    close_all(pipeFds, 2);
}

TEST_LIST = {
    { "recv_stream", test_recv_stream },
    { "socket_types", test_socket_types },
    { "pair_data", test_pair_data },
    { "epipe_without_signal", test_epipe_without_signal },
    { "shutdown", test_shutdown },
    { "socket_buffers", test_socket_buffers },
    { "bind_connect_accept", test_bind_connect_accept },
    { "path_lengths", test_path_lengths },
    { "peer_credentials", test_peer_credentials },
    { "scm_rights_across_fork", test_scm_rights_across_fork },
    { "descriptor_limits", test_descriptor_limits },
    { "truncated_datagrams", test_truncated_datagrams },
    { NULL, NULL },
};
