/*
 * ipccore.h - the whole ABI of the IpcCore native shim (libipccore.so).
 *
 * This header is the single source of truth between C and C#: the managed
 * LibraryImport declarations in bindings/Interop.IpcNative.g.cs are generated
 * from it (bindings/gen) and a test fails when they drift apart.
 *
 * Rules of this ABI (keep them, the generator relies on them):
 *  - Every export is IpcNative_<Name>, named after the syscall when 1:1.
 *  - Only fixed-width integers, pointers, const char* (UTF-8) and the structs
 *    below cross the boundary. No size_t, off_t, long, bool or libc structs.
 *  - Every function returns a non-negative result on success or -errno on
 *    failure. errno itself is never part of the contract, so nothing depends
 *    on it surviving the P/Invoke transition.
 *  - EINTR is retried inside the shim, except where a prototype says it is
 *    reported (futex waits), so the caller can re-check its own state.
 *  - Descriptors (file, socket, message queue) are IpcFd. Every descriptor the
 *    shim creates is close-on-exec.
 *  - Timeouts are (timeoutNs, timeoutKind) with IpcTimeoutKind below. Absolute
 *    deadlines are on CLOCK_MONOTONIC (see IpcNative_ClockMonotonicNs) for
 *    every call, so a wall-clock change never stretches or cuts a wait.
 *
 * The constant values below are frozen: they equal the Linux values and the
 * shim static-asserts that they do, so managed callers may rely on them.
 */
#ifndef IPCCORE_H
#define IPCCORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPC_EXPORT __attribute__((visibility("default")))

/* Marks a call that never blocks and never fails: the generator adds
 * [SuppressGCTransition] to its binding. Only clang (which the generator
 * runs) knows the annotate attribute; GCC would warn (-Wattributes). */
#if defined(__clang__)
#define IPC_NO_GC_TRANSITION __attribute__((annotate("ipc_no_gc_transition")))
#else
#define IPC_NO_GC_TRANSITION
#endif

/* The ABI version; bumped on any incompatible change to this header. The
 * managed side refuses a library whose IpcNative_GetAbiVersion differs. */
typedef enum IpcAbi
{
    IPC_ABI_VERSION = 1,
} IpcAbi;

/* A file, socket, FIFO, eventfd or message-queue descriptor. The generator
 * maps IpcFd parameters to SafeHandle so a descriptor cannot be closed and
 * reused while a call on it is in flight. */
typedef int32_t IpcFd;

/* ---------------------------------------------------------------------------
 * Frozen constants
 * ------------------------------------------------------------------------- */

/* errno values the managed side names (all others are still returned). */
typedef enum IpcErrno
{
    IPC_EPERM = 1,
    IPC_ENOENT = 2,
    IPC_ESRCH = 3,
    IPC_EINTR = 4,
    IPC_EIO = 5,
    IPC_ENXIO = 6,
    IPC_EBADF = 9,
    IPC_EAGAIN = 11,
    IPC_ENOMEM = 12,
    IPC_EACCES = 13,
    IPC_EFAULT = 14,
    IPC_EBUSY = 16,
    IPC_EEXIST = 17,
    IPC_ENOTDIR = 20,
    IPC_EISDIR = 21,
    IPC_EINVAL = 22,
    IPC_ENFILE = 23,
    IPC_EMFILE = 24,
    IPC_EFBIG = 27,
    IPC_ENOSPC = 28,
    IPC_ESPIPE = 29,
    IPC_EPIPE = 32,
    IPC_ERANGE = 34,
    IPC_ENAMETOOLONG = 36,
    IPC_ENOSYS = 38,
    IPC_ENOTEMPTY = 39,
    IPC_ETIME = 62,
    IPC_EOVERFLOW = 75,
    IPC_ENOTSOCK = 88,
    IPC_EMSGSIZE = 90,
    IPC_EPROTOTYPE = 91,
    IPC_EOPNOTSUPP = 95,
    IPC_EADDRINUSE = 98,
    IPC_ENETDOWN = 100,
    IPC_ECONNABORTED = 103,
    IPC_ECONNRESET = 104,
    IPC_ENOBUFS = 105,
    IPC_EISCONN = 106,
    IPC_ENOTCONN = 107,
    IPC_ETIMEDOUT = 110,
    IPC_ECONNREFUSED = 111,
} IpcErrno;

/* open(2), shm_open(3), mq_open(3) and sem_open(3) flags. */
typedef enum IpcOpenFlags
{
    IPC_O_RDONLY = 0x0,
    IPC_O_WRONLY = 0x1,
    IPC_O_RDWR = 0x2,
    IPC_O_CREAT = 0x40,
    IPC_O_EXCL = 0x80,
    IPC_O_NOCTTY = 0x100,
    IPC_O_TRUNC = 0x200,
    IPC_O_NONBLOCK = 0x800,
    IPC_O_CLOEXEC = 0x80000,
} IpcOpenFlags;

/* How a timeoutNs argument is read. */
typedef enum IpcTimeoutKind
{
    IPC_TIMEOUT_INFINITE = 0, /* timeoutNs is ignored; wait until done */
    IPC_TIMEOUT_RELATIVE = 1, /* timeoutNs from now; 0 means poll once */
    IPC_TIMEOUT_ABSOLUTE = 2, /* deadline in CLOCK_MONOTONIC nanoseconds */
} IpcTimeoutKind;

/* mmap(2) protection and flags. */
typedef enum IpcMmapProt
{
    IPC_PROT_NONE = 0x0,
    IPC_PROT_READ = 0x1,
    IPC_PROT_WRITE = 0x2,
} IpcMmapProt;

typedef enum IpcMmapFlags
{
    IPC_MAP_SHARED = 0x01,
    IPC_MAP_PRIVATE = 0x02,
    IPC_MAP_ANONYMOUS = 0x20,
    IPC_MAP_POPULATE = 0x8000,
} IpcMmapFlags;

/* memfd_create(2) flags and fcntl(2) file seals. */
typedef enum IpcMemfdFlags
{
    IPC_MFD_CLOEXEC = 0x1,
    IPC_MFD_ALLOW_SEALING = 0x2,
} IpcMemfdFlags;

typedef enum IpcSeals
{
    IPC_F_SEAL_SEAL = 0x1,
    IPC_F_SEAL_SHRINK = 0x2,
    IPC_F_SEAL_GROW = 0x4,
    IPC_F_SEAL_WRITE = 0x8,
    IPC_F_SEAL_FUTURE_WRITE = 0x10,
} IpcSeals;

/* socket(2) types and type flags (AF_UNIX is implied). */
typedef enum IpcSocketType
{
    IPC_SOCK_STREAM = 1,
    IPC_SOCK_DGRAM = 2,
    IPC_SOCK_SEQPACKET = 5,
    IPC_SOCK_NONBLOCK = 0x800,
    IPC_SOCK_CLOEXEC = 0x80000,
} IpcSocketType;

/* sendmsg(2)/recvmsg(2) flags accepted by the shim. */
typedef enum IpcMsgFlags
{
    IPC_MSG_PEEK = 0x2,
    IPC_MSG_DONTWAIT = 0x40,
    IPC_MSG_WAITALL = 0x100,
    IPC_MSG_NOSIGNAL = 0x4000,
} IpcMsgFlags;

/* shutdown(2) directions. */
typedef enum IpcShutdownHow
{
    IPC_SHUT_RD = 0,
    IPC_SHUT_WR = 1,
    IPC_SHUT_RDWR = 2,
} IpcShutdownHow;

/* pipe2(2) and eventfd(2) flags. */
typedef enum IpcPipeFlags
{
    IPC_PIPE_NONBLOCK = 0x800,
    IPC_PIPE_DIRECT = 0x4000,
    IPC_PIPE_CLOEXEC = 0x80000,
} IpcPipeFlags;

typedef enum IpcEventfdFlags
{
    IPC_EFD_SEMAPHORE = 0x1,
    IPC_EFD_NONBLOCK = 0x800,
    IPC_EFD_CLOEXEC = 0x80000,
} IpcEventfdFlags;

/* poll(2) and epoll(7) event bits (the same values in both on Linux). */
typedef enum IpcPollEvents
{
    IPC_POLLIN = 0x001,
    IPC_POLLPRI = 0x002,
    IPC_POLLOUT = 0x004,
    IPC_POLLERR = 0x008,
    IPC_POLLHUP = 0x010,
    IPC_POLLNVAL = 0x020,
    IPC_POLLRDHUP = 0x2000,
    IPC_EPOLLET = (int32_t)0x80000000u,
} IpcPollEvents;

typedef enum IpcEpollOp
{
    IPC_EPOLL_CTL_ADD = 1,
    IPC_EPOLL_CTL_DEL = 2,
    IPC_EPOLL_CTL_MOD = 3,
} IpcEpollOp;

/* flock(2) operations. */
typedef enum IpcFlockOp
{
    IPC_LOCK_SH = 1,
    IPC_LOCK_EX = 2,
    IPC_LOCK_NB = 4,
    IPC_LOCK_UN = 8,
} IpcFlockOp;

/* Limits of this ABI. */
typedef enum IpcLimits
{
    IPC_MAX_FDS_PER_MSG = 253, /* SCM_MAX_FD of the Linux kernel */
    IPC_UNIX_PATH_MAX = 107,   /* sizeof(sun_path) - 1 for the NUL */
    IPC_NAME_MAX = 255,        /* NAME_MAX for shm, mq and sem names */
} IpcLimits;

/* The shared-memory SPSC ring (managed/IpcCore/Rings). A ring segment is
 * IPC_RING_HEADER_SIZE header bytes followed by `capacity` data bytes
 * (a power of two >= 4096). The header is three 64-byte lines, each two
 * lines (128 bytes) from the next so the two sides never share a line nor an
 * adjacent-line prefetch pair; lines 64..127 and 192..255 are padding that the
 * protocol never touches. Every field has exactly one writer.
 *   line 0 (config, written once by the creator; the pids once each by their side):
 *     0 magic u32, 4 version u32, 8 capacity u64, 16 maxRecord u32 (largest
 *     payload), 20 wakeMode u32 (IpcRingWake), 24 producerPid i32, 28 consumerPid i32
 *   line 128 (producer-owned): 128 tail u64 (bytes ever written, release-published),
 *     136 dataSignal u32 (futex word the consumer sleeps on), 140 producerSleeping u32
 *   line 256 (consumer-owned): 256 head u64 (bytes ever consumed, release-published),
 *     264 spaceSignal u32 (futex word the producer sleeps on), 268 consumerSleeping u32
 * A record is an 8-byte header (u32 length, u32 kind: IpcRingRecordKind) and
 * the payload, padded to IPC_RING_RECORD_ALIGN; it never crosses the end of
 * the data region (a padding record fills the rest and the next starts at 0). */
typedef enum IpcRingLayout
{
    IPC_RING_MAGIC = 0x474E5249,          /* "IRNG" little-endian */
    IPC_RING_VERSION = 1,                 /* bumped on any layout change */
    IPC_RING_CACHE_LINE = 64,             /* assumed cache line size */
    IPC_RING_OFFSET_CONFIG = 0,           /* config line */
    IPC_RING_OFFSET_MAGIC = 0,
    IPC_RING_OFFSET_VERSION = 4,
    IPC_RING_OFFSET_CAPACITY = 8,
    IPC_RING_OFFSET_MAX_RECORD = 16,
    IPC_RING_OFFSET_WAKE_MODE = 20,
    IPC_RING_OFFSET_PRODUCER_PID = 24,
    IPC_RING_OFFSET_CONSUMER_PID = 28,
    IPC_RING_OFFSET_PRODUCER = 128,       /* producer-owned line */
    IPC_RING_OFFSET_TAIL = 128,
    IPC_RING_OFFSET_DATA_SIGNAL = 136,
    IPC_RING_OFFSET_PRODUCER_SLEEPING = 140,
    IPC_RING_OFFSET_CONSUMER = 256,       /* consumer-owned line */
    IPC_RING_OFFSET_HEAD = 256,
    IPC_RING_OFFSET_SPACE_SIGNAL = 264,
    IPC_RING_OFFSET_CONSUMER_SLEEPING = 268,
    IPC_RING_HEADER_SIZE = 384,           /* the data region starts here */
    IPC_RING_MIN_CAPACITY = 4096,         /* smallest data region */
    IPC_RING_RECORD_ALIGN = 8,            /* records start and end 8-byte aligned */
    IPC_RING_RECORD_HEADER = 8,           /* u32 length + u32 kind */
} IpcRingLayout;

/* The kind field of a ring record header. */
typedef enum IpcRingRecordKind
{
    IPC_RING_RECORD_DATA = 1,    /* a payload of `length` bytes */
    IPC_RING_RECORD_PADDING = 2, /* skip to the start of the data region */
} IpcRingRecordKind;

/* How a ring's waiting side sleeps (the wakeMode config field). */
typedef enum IpcRingWake
{
    IPC_RING_WAKE_FUTEX = 1,     /* on the dataSignal/spaceSignal futex words */
    IPC_RING_WAKE_SEMAPHORE = 2, /* on two named semaphores */
} IpcRingWake;

/* ---------------------------------------------------------------------------
 * Structs. Fields are sorted by size so there is no hidden padding; the shim
 * static-asserts sizeof and offsetof for each, and a managed test compiles
 * the same asserts against the generated C# layout.
 * ------------------------------------------------------------------------- */

/* mq_getattr(3). Layout: 0 flags, 8 maxMsg, 16 msgSize, 24 curMsgs; size 32. */
typedef struct IpcMqAttr
{
    int64_t flags;   /* IPC_O_NONBLOCK or 0 */
    int64_t maxMsg;  /* queue depth */
    int64_t msgSize; /* maximum message size in bytes */
    int64_t curMsgs; /* messages now queued */
} IpcMqAttr;

/* The message-queue limits of this system (/proc/sys/fs/mqueue). The
 * unprivileged defaults are maxMsg 10 and msgSize 8192; a caller must not
 * assume more. Layout: 0 msgMax, 8 msgSizeMax, 16 msgDefault, 24
 * msgSizeDefault, 32 queuesMax; size 40. */
typedef struct IpcMqLimits
{
    int64_t msgMax;         /* largest maxMsg an unprivileged caller may ask */
    int64_t msgSizeMax;     /* largest msgSize an unprivileged caller may ask */
    int64_t msgDefault;     /* maxMsg when mq_open gets no attributes */
    int64_t msgSizeDefault; /* msgSize when mq_open gets no attributes */
    int64_t queuesMax;      /* queues per user namespace */
} IpcMqLimits;

/* SO_PEERCRED. Layout: 0 pid, 4 uid, 8 gid; size 12. */
typedef struct IpcPeerCred
{
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} IpcPeerCred;

/* fstat(2), the fields the transports need. Layout: 0 size, 8 mode, 12 uid,
 * 16 gid, 20 type; size 24. */
typedef struct IpcFileStatus
{
    int64_t size;
    uint32_t mode; /* permission bits and S_IFMT type bits */
    uint32_t uid;
    uint32_t gid;
    int32_t isFifo; /* 1 for a FIFO, else 0 */
} IpcFileStatus;

/* poll(2) entry. Layout: 0 fd, 4 events, 6 revents; size 8 (== struct pollfd). */
typedef struct IpcPollFd
{
    int32_t fd;
    int16_t events;
    int16_t revents;
} IpcPollFd;

/* epoll_event without the x86-64 packing. Layout: 0 data, 8 events, 12
 * reserved; size 16. */
typedef struct IpcEpollEvent
{
    uint64_t data;
    uint32_t events;
    uint32_t reserved;
} IpcEpollEvent;

/* ---------------------------------------------------------------------------
 * Errors and time (ipc_errno.c, ipc_time.c)
 * ------------------------------------------------------------------------- */

/** The ABI version this library was built with (IPC_ABI_VERSION). */
IPC_EXPORT IPC_NO_GC_TRANSITION int32_t IpcNative_GetAbiVersion(void);

/**
 * Writes the symbolic name of errnum ("EACCES") into buf as UTF-8 with a NUL.
 * Returns the name's length without the NUL, or -ERANGE if buf is too small,
 * -EINVAL if errnum is not a known errno.
 */
IPC_EXPORT IPC_NO_GC_TRANSITION int32_t IpcNative_ErrnoName(int32_t errnum, uint8_t* buf, int32_t bufLen);

/**
 * Writes the description of errnum ("Permission denied") into buf as UTF-8
 * with a NUL (strerror_r(3)). Returns its length without the NUL, or -ERANGE
 * if buf is too small.
 */
IPC_EXPORT IPC_NO_GC_TRANSITION int32_t IpcNative_StrError(int32_t errnum, uint8_t* buf, int32_t bufLen);

/** CLOCK_MONOTONIC in nanoseconds: the clock of every absolute deadline. */
IPC_EXPORT IPC_NO_GC_TRANSITION int64_t IpcNative_ClockMonotonicNs(void);

/** CLOCK_REALTIME in nanoseconds since the epoch. */
IPC_EXPORT IPC_NO_GC_TRANSITION int64_t IpcNative_ClockRealtimeNs(void);

/* ---------------------------------------------------------------------------
 * Descriptors, files and processes (ipc_fd.c, ipc_process.c)
 * ------------------------------------------------------------------------- */

/** close(2). Returns 0 or -errno. EINTR is not retried: Linux closes anyway. */
IPC_EXPORT int32_t IpcNative_Close(int32_t fd);

/** fcntl(F_DUPFD_CLOEXEC): a new descriptor (the lowest free one) of the same open file, close-on-exec. Returns it or -errno (-EMFILE). */
IPC_EXPORT int32_t IpcNative_Dup(IpcFd fd);

/**
 * Gives up root for good: setgroups(0), setresgid(gid x3), setresuid(uid x3), for every thread of the
 * process (glibc applies set*id to all threads). Afterwards the process has none of root's powers, such
 * as opening files whatever their mode. Returns 0 or -errno (-EPERM when not privileged).
 */
IPC_EXPORT int32_t IpcNative_DropPrivileges(uint32_t uid, uint32_t gid);

/** read(2). Returns bytes read (0 at end of file) or -errno (-EAGAIN when non-blocking and empty). */
IPC_EXPORT int32_t IpcNative_Read(IpcFd fd, uint8_t* buf, int32_t len);

/** write(2). Returns bytes written (possibly fewer than len) or -errno (-EPIPE: no reader; SIGPIPE is not raised for sockets). */
IPC_EXPORT int32_t IpcNative_Write(IpcFd fd, const uint8_t* buf, int32_t len);

/**
 * write(2) on a pipe or FIFO: one system call, where IpcNative_Write first tries send(MSG_NOSIGNAL) and
 * falls back on ENOTSOCK. Returns bytes written or -errno (-EPIPE: no reader; SIGPIPE then follows the
 * process's disposition, which the .NET runtime sets to ignore).
 */
IPC_EXPORT int32_t IpcNative_WritePipe(IpcFd fd, const uint8_t* buf, int32_t len);

/** open(2) with IPC_O_* flags; O_CLOEXEC is always added. Returns the fd or -errno. */
IPC_EXPORT int32_t IpcNative_Open(const char* path, int32_t flags, int32_t mode);

/** unlink(2). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_Unlink(const char* path);

/** mkfifo(3) with exactly mode (the umask is not applied). Returns 0 or -errno (-EEXIST). */
IPC_EXPORT int32_t IpcNative_MkFifo(const char* path, int32_t mode);

/**
 * pipe2(2) with IPC_PIPE_* flags; O_CLOEXEC is always added. Writes the read
 * end to fds[0] and the write end to fds[1]. Returns 0 or -errno.
 */
IPC_EXPORT int32_t IpcNative_Pipe2(int32_t* fds, int32_t flags);

/** The capacity of a pipe or FIFO in bytes (F_GETPIPE_SZ), or -errno. */
IPC_EXPORT int32_t IpcNative_GetPipeSize(IpcFd fd);

/** Sets the capacity of a pipe or FIFO (F_SETPIPE_SZ). Returns the new capacity or -errno. */
IPC_EXPORT int32_t IpcNative_SetPipeSize(IpcFd fd, int32_t size);

/** PIPE_BUF: the largest write to a pipe or FIFO that is atomic. */
IPC_EXPORT IPC_NO_GC_TRANSITION int32_t IpcNative_GetPipeBuf(void);

/** eventfd(2) with IPC_EFD_* flags; EFD_CLOEXEC is always added. Returns the fd or -errno. */
IPC_EXPORT int32_t IpcNative_EventFd(uint32_t initval, int32_t flags);

/** Adds value to an eventfd counter. Returns 0 or -errno (-EAGAIN if it would overflow and is non-blocking). */
IPC_EXPORT int32_t IpcNative_EventFdWrite(IpcFd fd, uint64_t value);

/** Reads and resets (or decrements, with EFD_SEMAPHORE) an eventfd counter into *value. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_EventFdRead(IpcFd fd, uint64_t* value);

/** Sets or clears O_NONBLOCK. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_SetNonBlocking(IpcFd fd, int32_t nonBlocking);

/** Returns 1 if O_NONBLOCK is set, 0 if not, or -errno. */
IPC_EXPORT int32_t IpcNative_GetNonBlocking(IpcFd fd);

/** Returns 1 if FD_CLOEXEC is set, 0 if not, or -errno. */
IPC_EXPORT int32_t IpcNative_GetCloseOnExec(IpcFd fd);

/** fstat(2) into *status. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_FStat(IpcFd fd, IpcFileStatus* status);

/** flock(2) with IPC_LOCK_* operations. Returns 0 or -errno (-EWOULDBLOCK == -EAGAIN when held and LOCK_NB). */
IPC_EXPORT int32_t IpcNative_Flock(IpcFd fd, int32_t operation);

/**
 * poll(2) over count entries with a timeout in milliseconds (-1 infinite).
 * EINTR is retried with the remaining time. Returns the number of ready
 * entries (0 on timeout) or -errno.
 */
IPC_EXPORT int32_t IpcNative_Poll(IpcPollFd* fds, int32_t count, int32_t timeoutMs);

/** epoll_create1(EPOLL_CLOEXEC). Returns the fd or -errno. */
IPC_EXPORT int32_t IpcNative_EpollCreate(void);

/** epoll_ctl(2): op is IPC_EPOLL_CTL_*, events are IPC_POLL* bits, data is returned by EpollWait. */
IPC_EXPORT int32_t IpcNative_EpollCtl(IpcFd epfd, int32_t op, int32_t fd, uint32_t events, uint64_t data);

/**
 * epoll_wait(2) into events[0..maxEvents) with a timeout in milliseconds
 * (-1 infinite). Returns the number of events (0 on timeout), -EINTR if a
 * signal arrived, or another -errno.
 */
IPC_EXPORT int32_t IpcNative_EpollWait(IpcFd epfd, IpcEpollEvent* events, int32_t maxEvents, int32_t timeoutMs);

/** getpid(2). */
IPC_EXPORT IPC_NO_GC_TRANSITION int32_t IpcNative_GetPid(void);

/** geteuid(2), as a non-negative int64. */
IPC_EXPORT IPC_NO_GC_TRANSITION int64_t IpcNative_GetEUid(void);

/** kill(2). With signal 0 it tests whether pid exists: 0 if so, -ESRCH if not, -EPERM if it exists but is not ours. */
IPC_EXPORT int32_t IpcNative_Kill(int32_t pid, int32_t signal);

/* ---------------------------------------------------------------------------
 * POSIX message queues (ipc_mqueue.c)
 * ------------------------------------------------------------------------- */

/**
 * Reads this system's message-queue limits into *limits. Returns 0 or -errno.
 * Limits that cannot be read are reported as the kernel defaults
 * (msg_max 10, msgsize_max 8192, msg_default 10, msgsize_default 8192,
 * queues_max 256).
 */
IPC_EXPORT int32_t IpcNative_MqGetLimits(IpcMqLimits* limits);

/**
 * mq_open(3). name starts with '/'. flags are IPC_O_RDONLY/WRONLY/RDWR plus
 * CREAT, EXCL, NONBLOCK. When creating, mode is applied exactly (not masked)
 * and maxMsg/msgSize size the queue; pass 0 for both to take the system
 * defaults. Returns the queue descriptor (close-on-exec, pollable) or -errno
 * (-EINVAL when maxMsg/msgSize exceed the limits, -EEXIST, -ENOENT, -EACCES,
 * -EMFILE when the per-user queue bytes (RLIMIT_MSGQUEUE) are used up).
 */
IPC_EXPORT int32_t IpcNative_MqOpen(const char* name, int32_t flags, int32_t mode, int64_t maxMsg, int64_t msgSize);

/**
 * mq_timedsend(3) of len bytes at priority prio (0 lowest). Returns 0 or
 * -errno: -EAGAIN when full and non-blocking, -ETIMEDOUT when the timeout
 * passed, -EMSGSIZE when len exceeds the queue's msgSize.
 */
IPC_EXPORT int32_t IpcNative_MqSend(IpcFd mq, const uint8_t* buf, int32_t len, uint32_t prio, int64_t timeoutNs, int32_t timeoutKind);

/**
 * mq_timedreceive(3) of the oldest message of the highest priority into buf.
 * bufLen must be at least the queue's msgSize (else -EMSGSIZE). Writes the
 * priority to *prio when prio is not NULL. Returns the message length or
 * -errno (-EAGAIN, -ETIMEDOUT).
 */
IPC_EXPORT int32_t IpcNative_MqReceive(IpcFd mq, uint8_t* buf, int32_t bufLen, uint32_t* prio, int64_t timeoutNs, int32_t timeoutKind);

/** mq_getattr(3) into *attr. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_MqGetAttr(IpcFd mq, IpcMqAttr* attr);

/** Sets or clears O_NONBLOCK on a queue descriptor (mq_setattr(3)). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_MqSetNonBlocking(IpcFd mq, int32_t nonBlocking);

/** mq_close(3). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_MqClose(int32_t mq);

/** mq_unlink(3). Returns 0 or -errno (-ENOENT). */
IPC_EXPORT int32_t IpcNative_MqUnlink(const char* name);

/* ---------------------------------------------------------------------------
 * POSIX named semaphores (ipc_semaphore.c). A semaphore is the sem_t*
 * returned by SemOpen, passed back as an opaque pointer.
 * ------------------------------------------------------------------------- */

/**
 * sem_open(3). name starts with '/'. flags may be IPC_O_CREAT and IPC_O_EXCL;
 * when creating, mode is applied exactly and value is the initial count.
 * Writes the semaphore to *sem. Returns 0 or -errno (-EEXIST, -ENOENT,
 * -EACCES, -EINVAL for a value above SEM_VALUE_MAX).
 */
IPC_EXPORT int32_t IpcNative_SemOpen(const char* name, int32_t flags, int32_t mode, uint32_t value, void** sem);

/** sem_wait(3): waits until the count is positive and decrements it. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_SemWait(void* sem);

/**
 * sem_clockwait(3) on CLOCK_MONOTONIC. Returns 0, -ETIMEDOUT when the timeout
 * passed first, or another -errno. IPC_TIMEOUT_INFINITE behaves as SemWait.
 */
IPC_EXPORT int32_t IpcNative_SemTimedWait(void* sem, int64_t timeoutNs, int32_t timeoutKind);

/** sem_trywait(3). Returns 0, -EAGAIN when the count is zero, or -errno. */
IPC_EXPORT int32_t IpcNative_SemTryWait(void* sem);

/** sem_post(3). Returns 0 or -errno (-EOVERFLOW at SEM_VALUE_MAX). */
IPC_EXPORT int32_t IpcNative_SemPost(void* sem);

/** sem_getvalue(3): returns the current count (>= 0) or -errno. */
IPC_EXPORT int32_t IpcNative_SemGetValue(void* sem);

/** sem_close(3). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_SemClose(void* sem);

/** sem_unlink(3). Returns 0 or -errno (-ENOENT). */
IPC_EXPORT int32_t IpcNative_SemUnlink(const char* name);

/* ---------------------------------------------------------------------------
 * Shared memory (ipc_shm.c)
 * ------------------------------------------------------------------------- */

/**
 * shm_open(3). name starts with '/'. flags are IPC_O_RDONLY or RDWR plus
 * CREAT, EXCL, TRUNC. When creating, mode is applied exactly (not masked).
 * Returns the fd (close-on-exec) or -errno.
 */
IPC_EXPORT int32_t IpcNative_ShmOpen(const char* name, int32_t flags, int32_t mode);

/** shm_unlink(3). Returns 0 or -errno (-ENOENT). */
IPC_EXPORT int32_t IpcNative_ShmUnlink(const char* name);

/** ftruncate(2). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_FTruncate(IpcFd fd, int64_t length);

/**
 * mmap(2) of length bytes of fd at offset. prot is IPC_PROT_*, flags
 * IPC_MAP_* (not IPC_MAP_ANONYMOUS: use IpcNative_MMapAnonymous). Writes the
 * address to *addr. Returns 0 or -errno.
 */
IPC_EXPORT int32_t IpcNative_MMap(IpcFd fd, int64_t length, int32_t prot, int32_t flags, int64_t offset, void** addr);

/** mmap(2) of anonymous memory (IPC_MAP_ANONYMOUS is implied). Writes the address to *addr. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_MMapAnonymous(int64_t length, int32_t prot, int32_t flags, void** addr);

/** munmap(2). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_MUnmap(void* addr, int64_t length);

/** The system page size in bytes. */
IPC_EXPORT IPC_NO_GC_TRANSITION int32_t IpcNative_GetPageSize(void);

/**
 * memfd_create(2) with IPC_MFD_* flags; MFD_CLOEXEC is always added. name is
 * only a label for /proc. Returns the fd or -errno.
 */
IPC_EXPORT int32_t IpcNative_MemfdCreate(const char* name, int32_t flags);

/** Adds IPC_F_SEAL_* seals to a memfd (F_ADD_SEALS). Returns 0 or -errno (-EPERM once sealed). */
IPC_EXPORT int32_t IpcNative_AddSeals(IpcFd fd, int32_t seals);

/** The IPC_F_SEAL_* seals of a memfd (F_GET_SEALS), or -errno (-EINVAL if it cannot be sealed). */
IPC_EXPORT int32_t IpcNative_GetSeals(IpcFd fd);

/* ---------------------------------------------------------------------------
 * Futex (ipc_futex.c). Shared futexes (no FUTEX_PRIVATE_FLAG): they work
 * across processes on a MAP_SHARED mapping. The word must be 4-byte aligned.
 * ------------------------------------------------------------------------- */

/**
 * FUTEX_WAIT_BITSET on *addr if it still equals expected. Returns 0 when
 * woken (possibly spuriously: re-check the word), -EAGAIN when *addr was not
 * expected, -ETIMEDOUT when the timeout passed, -EINTR when a signal
 * interrupted the wait (reported, not retried), or another -errno.
 */
IPC_EXPORT int32_t IpcNative_FutexWait(uint32_t* addr, uint32_t expected, int64_t timeoutNs, int32_t timeoutKind);

/** FUTEX_WAKE of up to count waiters on addr (INT32_MAX for all). Returns the number woken or -errno. */
IPC_EXPORT int32_t IpcNative_FutexWake(uint32_t* addr, int32_t count);

/* ---------------------------------------------------------------------------
 * UNIX domain sockets (ipc_socket.c)
 * ------------------------------------------------------------------------- */

/** socket(AF_UNIX, type, 0) with IPC_SOCK_* type and flags; SOCK_CLOEXEC is always added. Returns the fd or -errno. */
IPC_EXPORT int32_t IpcNative_UnixSocket(int32_t type);

/** socketpair(AF_UNIX, type, 0, fds) with IPC_SOCK_* type and flags; SOCK_CLOEXEC is always added. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_UnixSocketPair(int32_t type, int32_t* fds);

/** bind(2) to a filesystem path (at most IPC_UNIX_PATH_MAX bytes, else -ENAMETOOLONG). Returns 0 or -errno (-EADDRINUSE). */
IPC_EXPORT int32_t IpcNative_UnixBind(IpcFd fd, const char* path);

/** connect(2) to a filesystem path. Returns 0 or -errno (-ENOENT, -ECONNREFUSED, -EAGAIN when the backlog is full, -EINPROGRESS never for AF_UNIX). */
IPC_EXPORT int32_t IpcNative_UnixConnect(IpcFd fd, const char* path);

/** listen(2). Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_Listen(IpcFd fd, int32_t backlog);

/** accept4(2) with IPC_SOCK_NONBLOCK in flags if wanted; SOCK_CLOEXEC is always added. Returns the fd or -errno (-EAGAIN). */
IPC_EXPORT int32_t IpcNative_Accept(IpcFd fd, int32_t flags);

/** shutdown(2) with IPC_SHUT_*. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_Shutdown(IpcFd fd, int32_t how);

/** SO_PEERCRED of a connected socket into *cred. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_GetPeerCred(IpcFd fd, IpcPeerCred* cred);

/** Sets SO_SNDBUF (which = 1) or SO_RCVBUF (which = 0) to bytes. Returns 0 or -errno. */
IPC_EXPORT int32_t IpcNative_SetSocketBuffer(IpcFd fd, int32_t which, int32_t bytes);

/** Reads SO_SNDBUF (which = 1) or SO_RCVBUF (which = 0). Returns the size in bytes or -errno. */
IPC_EXPORT int32_t IpcNative_GetSocketBuffer(IpcFd fd, int32_t which);

/**
 * sendmsg(2) of len payload bytes plus fdCount descriptors as one
 * SCM_RIGHTS message (fdCount 0..IPC_MAX_FDS_PER_MSG, else -EINVAL; a
 * payload of at least 1 byte is needed to carry descriptors). MSG_NOSIGNAL
 * is always added. flags are IPC_MSG_*. Returns the bytes sent (the
 * descriptors go with the first byte) or -errno.
 */
IPC_EXPORT int32_t IpcNative_SendMsg(IpcFd fd, const uint8_t* buf, int32_t len, const int32_t* fds, int32_t fdCount, int32_t flags);

/**
 * recvmsg(2) of up to len payload bytes and up to maxFds descriptors.
 * Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC), written to
 * fds[0..*fdCount) and owned by the caller. Returns the bytes received
 * (0 at end of stream) or -errno. When the descriptors did not fit
 * (MSG_CTRUNC) or a datagram was cut (MSG_TRUNC) every descriptor received
 * is closed, *fdCount is 0 and the result is -EMSGSIZE: the message is lost
 * and the caller should treat the connection as broken.
 */
IPC_EXPORT int32_t IpcNative_RecvMsg(IpcFd fd, uint8_t* buf, int32_t len, int32_t* fds, int32_t maxFds, int32_t* fdCount, int32_t flags);

/**
 * recvmsg(2) for a byte stream whose messages carry descriptors in batches (one SCM_RIGHTS batch per
 * sendmsg): like IpcNative_RecvMsg, except that lost descriptors do not lose the bytes. When the
 * kernel could not hand over every descriptor (MSG_CTRUNC: the receiver's descriptor table is full,
 * EMFILE, or more than maxFds came) the descriptors that did arrive are closed, *fdCount is 0, *lost
 * is 1 and the result is still the byte count, so the stream stays framed and the caller can report
 * which message lost its descriptors. On Linux one call returns at most one batch.
 */
IPC_EXPORT int32_t IpcNative_RecvStream(IpcFd fd, uint8_t* buf, int32_t len, int32_t* fds, int32_t maxFds, int32_t* fdCount, int32_t* lost, int32_t flags);

/* ---------------------------------------------------------------------------
 * Child processes and resource limits (ipc_spawn.c). The caller is a .NET
 * process, which must not fork(): children are started with posix_spawn(3).
 * The ABI numbers of IpcSpawnFlags and IpcResourceLimit are its own (frozen
 * here); the shim maps them to the Linux values.
 * ------------------------------------------------------------------------- */

/* IpcNative_SpawnShell flags. */
typedef enum IpcSpawnFlags
{
    IPC_SPAWN_NONE = 0,
    IPC_SPAWN_NEW_PROCESS_GROUP = 1, /* the child leads a new process group: pgid == pid */
} IpcSpawnFlags;

/* getrlimit(2)/setrlimit(2) resources. */
typedef enum IpcResourceLimit
{
    IPC_RLIMIT_NOFILE = 1,   /* RLIMIT_NOFILE: open descriptors of this process */
    IPC_RLIMIT_MSGQUEUE = 2, /* RLIMIT_MSGQUEUE: bytes of POSIX message queues of this user */
} IpcResourceLimit;

/**
 * posix_spawn(3) of "/bin/sh -c command" with this process's environment.
 * stdinFd, stdoutFd and stderrFd (>= 0) become the child's descriptors 0, 1
 * and 2, whether close-on-exec or not and also when one already is (or is
 * another's) target; -1 leaves the parent's. No other descriptor of the shim
 * is inherited (all are close-on-exec). The parent's descriptors and flags are
 * not changed. The child starts with an empty signal mask and every signal at
 * its default disposition, whatever this process blocks, ignores or handles.
 * flags are IPC_SPAWN_*. Writes the child's pid to *pid. Returns 0 or -errno
 * (-EINVAL for NULL, an fd below -1 or an unknown flag; -EBADF for a closed
 * fd). The caller must reap the child (IpcNative_WaitPid).
 */
IPC_EXPORT int32_t IpcNative_SpawnShell(const char* command, int32_t stdinFd, int32_t stdoutFd, int32_t stderrFd, int32_t flags, int32_t* pid);

/**
 * pidfd_open(2): a descriptor (close-on-exec) referring to process pid that
 * becomes readable (IPC_POLLIN, for poll and epoll) once the process has
 * exited; it does not reap it. Returns the fd or -errno (-EINVAL for pid <= 0,
 * -ESRCH for no such process, -ENOSYS before Linux 5.3).
 */
IPC_EXPORT int32_t IpcNative_PidfdOpen(int32_t pid);

/**
 * waitpid(2) for the child pid; pid must be positive (-1 or a group would reap
 * children that belong to someone else, such as the .NET runtime). With noHang
 * != 0 it returns 0 at once while the child runs. Once reaped it returns pid
 * and writes *exitCode (the exit status, or -1 when killed by a signal) and
 * *termSignal (the signal, or 0); either pointer may be NULL. Returns -ECHILD
 * when pid is not an unreaped child of this process, -EINVAL for pid <= 0.
 * EINTR is retried.
 */
IPC_EXPORT int32_t IpcNative_WaitPid(int32_t pid, int32_t noHang, int32_t* exitCode, int32_t* termSignal);

/**
 * kill(-pgid, signal): signals every process of process group pgid, e.g. a
 * child started with IPC_SPAWN_NEW_PROCESS_GROUP (its pgid is its pid) and
 * everything it started. IpcNative_Kill refuses pid <= 0 so that a stray 0 or
 * negative number never reaches a group or every process; this call takes the
 * group as a positive id and refuses 0 and 1 (kill(-1) is every process) and
 * the caller's own group (-EINVAL). Returns 0 or -errno (-ESRCH when no process
 * is left in the group, -EPERM).
 */
IPC_EXPORT int32_t IpcNative_KillProcessGroup(int32_t pgid, int32_t signal);

/**
 * getrlimit(2) of an IPC_RLIMIT_* resource into *soft and *hard, -1 meaning
 * unlimited (RLIM_INFINITY). Returns 0 or -errno (-EINVAL for an unknown
 * resource or NULL).
 */
IPC_EXPORT int32_t IpcNative_GetResourceLimit(int32_t resource, int64_t* soft, int64_t* hard);

/**
 * setrlimit(2) of an IPC_RLIMIT_* resource; -1 means unlimited. Returns 0 or
 * -errno: -EINVAL for an unknown resource, a value below -1 or soft above
 * hard; -EPERM when raising hard without CAP_SYS_RESOURCE (or NOFILE above
 * /proc/sys/fs/nr_open).
 */
IPC_EXPORT int32_t IpcNative_SetResourceLimit(int32_t resource, int64_t soft, int64_t hard);

#ifdef __cplusplus
}
#endif

#endif /* IPCCORE_H */
