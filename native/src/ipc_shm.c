// ipc_shm.c - POSIX shared memory, mappings, memfds and file seals.

#include "ipc_common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

c_static_assert(IPC_PROT_NONE == PROT_NONE);
c_static_assert(IPC_PROT_READ == PROT_READ);
c_static_assert(IPC_PROT_WRITE == PROT_WRITE);
c_static_assert(IPC_MAP_SHARED == MAP_SHARED);
c_static_assert(IPC_MAP_PRIVATE == MAP_PRIVATE);
c_static_assert(IPC_MAP_ANONYMOUS == MAP_ANONYMOUS);
c_static_assert(IPC_MAP_POPULATE == MAP_POPULATE);
c_static_assert(IPC_MFD_CLOEXEC == MFD_CLOEXEC);
c_static_assert(IPC_MFD_ALLOW_SEALING == MFD_ALLOW_SEALING);
c_static_assert(IPC_F_SEAL_SEAL == F_SEAL_SEAL);
c_static_assert(IPC_F_SEAL_SHRINK == F_SEAL_SHRINK);
c_static_assert(IPC_F_SEAL_GROW == F_SEAL_GROW);
c_static_assert(IPC_F_SEAL_WRITE == F_SEAL_WRITE);
c_static_assert(IPC_F_SEAL_FUTURE_WRITE == F_SEAL_FUTURE_WRITE);
c_static_assert(sizeof(off_t) == sizeof(int64_t));

#define IPC_SHM_FLAGS_KNOWN (IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL | IPC_O_TRUNC | IPC_O_CLOEXEC)
#define IPC_SHM_MODE_BITS 0777
#define IPC_PROT_KNOWN (IPC_PROT_READ | IPC_PROT_WRITE)
#define IPC_MFD_KNOWN (IPC_MFD_CLOEXEC | IPC_MFD_ALLOW_SEALING)
#define IPC_SEALS_KNOWN (IPC_F_SEAL_SEAL | IPC_F_SEAL_SHRINK | IPC_F_SEAL_GROW | IPC_F_SEAL_WRITE | IPC_F_SEAL_FUTURE_WRITE)
#define IPC_CREATE_ATTEMPTS 64

// shm_open that tells whether this call created the object (see OpenOrCreate in ipc_mqueue.c),
// so the exact mode is applied only to an object we made. glibc's shm_open adds O_CLOEXEC and
// O_NOFOLLOW itself. Returns the fd or -errno.
static int32_t OpenOrCreate(const char* name, int oflag, mode_t mode, int* created)
{
    *created = 0;
    if ((oflag & O_CREAT) == 0)
    {
        int fd = shm_open(name, oflag, 0);
        return fd < 0 ? ipc_neg_errno() : fd;
    }
    int32_t last = -EEXIST;
    for (int attempt = 0; attempt < IPC_CREATE_ATTEMPTS; attempt++)
    {
        int fd = shm_open(name, oflag | O_EXCL, mode);
        if (fd >= 0)
        {
            *created = 1;
            return fd;
        }
        if (errno != EEXIST || (oflag & O_EXCL) != 0)
            return ipc_neg_errno();
        fd = shm_open(name, oflag & ~O_CREAT, 0);
        if (fd >= 0)
            return fd;
        if (errno != ENOENT)
            return ipc_neg_errno();
        last = -ENOENT;
    }
    return last;
}

int32_t IpcNative_ShmOpen(const char* name, int32_t flags, int32_t mode)
{
    int32_t check = ipc_check_object_name(name);
    if (check < 0)
        return check;
    // Only O_RDONLY or O_RDWR: a write-only mapping does not exist.
    if ((flags & ~IPC_SHM_FLAGS_KNOWN) != 0)
        return -EINVAL;
    if ((flags & IPC_O_CREAT) != 0 && (mode & ~IPC_SHM_MODE_BITS) != 0)
        return -EINVAL;

    int created;
    int32_t fd = OpenOrCreate(name, flags | O_CLOEXEC, (mode_t)mode, &created);
    if (fd < 0)
        return fd;
    // shm_open applied the umask; the descriptor lets us set the exact mode without a race.
    if (created && fchmod(fd, (mode_t)mode) < 0)
    {
        int32_t err = ipc_neg_errno();
        close(fd);
        shm_unlink(name);
        return err;
    }
    return fd;
}

int32_t IpcNative_ShmUnlink(const char* name)
{
    int32_t check = ipc_check_object_name(name);
    if (check < 0)
        return check;
    if (shm_unlink(name) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_FTruncate(IpcFd fd, int64_t length)
{
    if (length < 0)
        return -EINVAL;
    int result;
    IPC_RETRY_EINTR(result, ftruncate(fd, (off_t)length));
    return result < 0 ? ipc_neg_errno() : 0;
}

// Validates prot and the sharing flags common to both mmap entry points.
static int32_t CheckMapArgs(int64_t length, int32_t prot, int32_t flags, int32_t allowedFlags, void** addr)
{
    if (addr == NULL || length <= 0 || (uint64_t)length > (uint64_t)SIZE_MAX)
        return -EINVAL;
    if ((prot & ~IPC_PROT_KNOWN) != 0 || (flags & ~allowedFlags) != 0)
        return -EINVAL;
    // Exactly one of MAP_SHARED and MAP_PRIVATE.
    int sharing = flags & (IPC_MAP_SHARED | IPC_MAP_PRIVATE);
    if (sharing != IPC_MAP_SHARED && sharing != IPC_MAP_PRIVATE)
        return -EINVAL;
    return 0;
}

int32_t IpcNative_MMap(IpcFd fd, int64_t length, int32_t prot, int32_t flags, int64_t offset, void** addr)
{
    int32_t check = CheckMapArgs(length, prot, flags, IPC_MAP_SHARED | IPC_MAP_PRIVATE | IPC_MAP_POPULATE, addr);
    if (check < 0)
        return check;
    if (offset < 0)
        return -EINVAL;
    void* mapped = mmap(NULL, (size_t)length, prot, flags, fd, (off_t)offset);
    if (mapped == MAP_FAILED)
        return ipc_neg_errno();
    *addr = mapped;
    return 0;
}

int32_t IpcNative_MMapAnonymous(int64_t length, int32_t prot, int32_t flags, void** addr)
{
    int32_t check = CheckMapArgs(length, prot, flags,
                                 IPC_MAP_SHARED | IPC_MAP_PRIVATE | IPC_MAP_POPULATE | IPC_MAP_ANONYMOUS, addr);
    if (check < 0)
        return check;
    void* mapped = mmap(NULL, (size_t)length, prot, flags | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
        return ipc_neg_errno();
    *addr = mapped;
    return 0;
}

int32_t IpcNative_MUnmap(void* addr, int64_t length)
{
    if (length <= 0 || (uint64_t)length > (uint64_t)SIZE_MAX)
        return -EINVAL;
    if (munmap(addr, (size_t)length) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_GetPageSize(void)
{
    return (int32_t)sysconf(_SC_PAGESIZE);
}

int32_t IpcNative_MemfdCreate(const char* name, int32_t flags)
{
    if (name == NULL || (flags & ~IPC_MFD_KNOWN) != 0)
        return -EINVAL;
    int fd = memfd_create(name, (unsigned int)flags | MFD_CLOEXEC);
    return fd < 0 ? ipc_neg_errno() : fd;
}

int32_t IpcNative_AddSeals(IpcFd fd, int32_t seals)
{
    if ((seals & ~IPC_SEALS_KNOWN) != 0)
        return -EINVAL;
    if (fcntl(fd, F_ADD_SEALS, seals) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_GetSeals(IpcFd fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    return seals < 0 ? ipc_neg_errno() : seals;
}
