// ipc_mqueue.c - POSIX message queues.

#include "ipc_common.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

// IpcMqAttr: 0 flags, 8 maxMsg, 16 msgSize, 24 curMsgs; size 32.
c_static_assert(sizeof(IpcMqAttr) == 32);
c_static_assert(offsetof(IpcMqAttr, flags) == 0);
c_static_assert(offsetof(IpcMqAttr, maxMsg) == 8);
c_static_assert(offsetof(IpcMqAttr, msgSize) == 16);
c_static_assert(offsetof(IpcMqAttr, curMsgs) == 24);

// IpcMqLimits: 0 msgMax, 8 msgSizeMax, 16 msgDefault, 24 msgSizeDefault, 32 queuesMax; size 40.
c_static_assert(sizeof(IpcMqLimits) == 40);
c_static_assert(offsetof(IpcMqLimits, msgMax) == 0);
c_static_assert(offsetof(IpcMqLimits, msgSizeMax) == 8);
c_static_assert(offsetof(IpcMqLimits, msgDefault) == 16);
c_static_assert(offsetof(IpcMqLimits, msgSizeDefault) == 24);
c_static_assert(offsetof(IpcMqLimits, queuesMax) == 32);

// On Linux a queue descriptor is a file descriptor (pollable, fchmod-able).
c_static_assert(sizeof(mqd_t) == sizeof(int32_t));
c_static_assert(sizeof(((struct mq_attr*)0)->mq_maxmsg) == sizeof(int64_t));

#define IPC_MQ_FLAGS_KNOWN (IPC_O_WRONLY | IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL | IPC_O_NONBLOCK | IPC_O_CLOEXEC)
#define IPC_MQ_MODE_BITS 0777
// How often an O_CREAT without O_EXCL retries when the queue appears and disappears under it.
#define IPC_CREATE_ATTEMPTS 64

// Reads one non-negative number from a /proc file, or returns fallback.
static int64_t ReadProcNumber(const char* path, int64_t fallback)
{
    int fd;
    IPC_RETRY_EINTR(fd, open(path, O_RDONLY | O_CLOEXEC));
    if (fd < 0)
        return fallback;
    char text[32];
    ssize_t length;
    IPC_RETRY_EINTR(length, read(fd, text, sizeof(text) - 1));
    close(fd);
    if (length <= 0)
        return fallback;
    text[length] = '\0';
    char* end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || value < 0 || (*end != '\n' && *end != '\0'))
        return fallback;
    return (int64_t)value;
}

int32_t IpcNative_MqGetLimits(IpcMqLimits* limits)
{
    if (limits == NULL)
        return -EINVAL;
    // The fallbacks are the kernel's defaults (ipc/mq_sysctl.c, DFLT_QUEUESMAX and friends).
    limits->msgMax = ReadProcNumber("/proc/sys/fs/mqueue/msg_max", 10);
    limits->msgSizeMax = ReadProcNumber("/proc/sys/fs/mqueue/msgsize_max", 8192);
    limits->msgDefault = ReadProcNumber("/proc/sys/fs/mqueue/msg_default", 10);
    limits->msgSizeDefault = ReadProcNumber("/proc/sys/fs/mqueue/msgsize_default", 8192);
    limits->queuesMax = ReadProcNumber("/proc/sys/fs/mqueue/queues_max", 256);
    return 0;
}

// mq_open that tells whether this call created the queue, so the exact mode is applied only to
// a queue we made, never to an existing one. Returns the descriptor or -errno.
static int32_t OpenOrCreate(const char* name, int oflag, mode_t mode, struct mq_attr* attr, int* created)
{
    *created = 0;
    if ((oflag & O_CREAT) == 0)
    {
        mqd_t mq = mq_open(name, oflag);
        return mq < 0 ? ipc_neg_errno() : mq;
    }
    if ((oflag & O_EXCL) != 0)
    {
        mqd_t mq = mq_open(name, oflag, mode, attr);
        if (mq < 0)
            return ipc_neg_errno();
        *created = 1;
        return mq;
    }
    // O_CREAT alone: create exclusively, else open the existing queue; if that one was unlinked
    // in between, try again.
    int32_t err = -EEXIST;
    for (int attempt = 0; attempt < IPC_CREATE_ATTEMPTS; attempt++)
    {
        mqd_t mq = mq_open(name, oflag | O_EXCL, mode, attr);
        if (mq >= 0)
        {
            *created = 1;
            return mq;
        }
        if (errno != EEXIST)
            return ipc_neg_errno();
        mq = mq_open(name, oflag & ~O_CREAT);
        if (mq >= 0)
            return mq;
        if (errno != ENOENT)
            return ipc_neg_errno();
        err = -ENOENT;
    }
    return err;
}

int32_t IpcNative_MqOpen(const char* name, int32_t flags, int32_t mode, int64_t maxMsg, int64_t msgSize)
{
    int32_t check = ipc_check_object_name(name);
    if (check < 0)
        return check;
    if ((flags & ~IPC_MQ_FLAGS_KNOWN) != 0 || (flags & O_ACCMODE) == O_ACCMODE)
        return -EINVAL;
    if (maxMsg < 0 || msgSize < 0)
        return -EINVAL;
    if ((flags & IPC_O_CREAT) != 0 && (mode & ~IPC_MQ_MODE_BITS) != 0)
        return -EINVAL;

    // 0 and 0 take the system defaults (NULL attributes); a single 0 is left to the kernel,
    // which rejects it with EINVAL.
    struct mq_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.mq_maxmsg = maxMsg;
    attr.mq_msgsize = msgSize;
    struct mq_attr* attrOrNull = (maxMsg == 0 && msgSize == 0) ? NULL : &attr;

    // mq_open descriptors are always close-on-exec on Linux (the kernel installs them with
    // O_CLOEXEC), so IPC_O_CLOEXEC needs no handling.
    int oflag = flags & ~IPC_O_CLOEXEC;
    int created;
    int32_t mq = OpenOrCreate(name, oflag, (mode_t)mode, attrOrNull, &created);
    if (mq < 0)
        return mq;
    if (created && fchmod(mq, (mode_t)mode) < 0)
    {
        // The umask-masked queue is ours alone; do not leave it behind half made.
        int32_t err = ipc_neg_errno();
        mq_close(mq);
        mq_unlink(name);
        return err;
    }
    return mq;
}

// The CLOCK_REALTIME deadline mq_timedsend/mq_timedreceive need for a monotonic deadline, or
// NULL (wait forever) for an infinite timeout. Recomputed before every attempt.
static const struct timespec* RealtimeDeadline(int infinite, int64_t deadline, struct timespec* abs)
{
    if (infinite)
        return NULL;
    *abs = ipc_realtime_from_monotonic(deadline);
    return abs;
}

// Whether a failed timed call should run again: after EINTR, and after a timeout that came before
// the monotonic deadline because the wall clock jumped forward. Returns 0 or the -errno to report.
static int32_t RetryOrError(int infinite, int64_t deadline)
{
    int32_t err = ipc_neg_errno();
    if (err == -EINTR)
        return 0;
    if (err == -ETIMEDOUT && !infinite && ipc_clock_ns(CLOCK_MONOTONIC) < deadline)
        return 0;
    return err;
}

int32_t IpcNative_MqSend(IpcFd mq, const uint8_t* buf, int32_t len, uint32_t prio, int64_t timeoutNs, int32_t timeoutKind)
{
    if (len < 0 || (buf == NULL && len > 0))
        return -EINVAL;
    int64_t deadline;
    int infinite;
    int32_t err = ipc_monotonic_deadline(timeoutNs, timeoutKind, &deadline, &infinite);
    if (err < 0)
        return err;
    for (;;)
    {
        struct timespec abs;
        // A NULL deadline makes mq_timedsend wait like mq_send.
        if (mq_timedsend(mq, (const char*)buf, (size_t)len, prio, RealtimeDeadline(infinite, deadline, &abs)) == 0)
            return 0;
        if ((err = RetryOrError(infinite, deadline)) < 0)
            return err;
    }
}

int32_t IpcNative_MqReceive(IpcFd mq, uint8_t* buf, int32_t bufLen, uint32_t* prio, int64_t timeoutNs, int32_t timeoutKind)
{
    if (bufLen < 0 || (buf == NULL && bufLen > 0))
        return -EINVAL;
    int64_t deadline;
    int infinite;
    int32_t err = ipc_monotonic_deadline(timeoutNs, timeoutKind, &deadline, &infinite);
    if (err < 0)
        return err;
    for (;;)
    {
        struct timespec abs;
        unsigned int priority = 0;
        ssize_t length = mq_timedreceive(mq, (char*)buf, (size_t)bufLen, &priority, RealtimeDeadline(infinite, deadline, &abs));
        if (length >= 0)
        {
            if (prio != NULL)
                *prio = priority;
            return (int32_t)length;
        }
        if ((err = RetryOrError(infinite, deadline)) < 0)
            return err;
    }
}

int32_t IpcNative_MqGetAttr(IpcFd mq, IpcMqAttr* attr)
{
    if (attr == NULL)
        return -EINVAL;
    struct mq_attr current;
    if (mq_getattr(mq, &current) < 0)
        return ipc_neg_errno();
    attr->flags = (current.mq_flags & O_NONBLOCK) != 0 ? IPC_O_NONBLOCK : 0;
    attr->maxMsg = current.mq_maxmsg;
    attr->msgSize = current.mq_msgsize;
    attr->curMsgs = current.mq_curmsgs;
    return 0;
}

int32_t IpcNative_MqSetNonBlocking(IpcFd mq, int32_t nonBlocking)
{
    // mq_setattr only looks at mq_flags; the other fields are ignored.
    struct mq_attr wanted;
    memset(&wanted, 0, sizeof(wanted));
    wanted.mq_flags = nonBlocking != 0 ? O_NONBLOCK : 0;
    if (mq_setattr(mq, &wanted, NULL) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_MqClose(int32_t mq)
{
    // Like close(2): not retried on EINTR.
    if (mq_close(mq) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_MqUnlink(const char* name)
{
    int32_t check = ipc_check_object_name(name);
    if (check < 0)
        return check;
    if (mq_unlink(name) < 0)
        return ipc_neg_errno();
    return 0;
}
