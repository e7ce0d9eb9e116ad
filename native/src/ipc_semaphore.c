// ipc_semaphore.c - POSIX named semaphores.

#include "ipc_common.h"

#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/stat.h>

#define IPC_SEM_FLAGS_KNOWN (IPC_O_CREAT | IPC_O_EXCL)
#define IPC_SEM_MODE_BITS 0777
#define IPC_CREATE_ATTEMPTS 64

c_static_assert(IPC_NAME_MAX == NAME_MAX);
c_static_assert(SEM_VALUE_MAX == INT32_MAX);

// glibc keeps a named semaphore in SHMDIR as "sem.<name without the leading slashes>"
// (sysdeps/pthread/sem_open.c, __shm_get_name); the mode fix-up below goes through that file.
#define IPC_SEM_FILE_PREFIX "/dev/shm/sem."

// Sets the exact mode of the semaphore file we just created. sem_t has no descriptor, so this
// goes by path; /dev/shm is sticky, so nobody else can swap the file between create and chmod.
static int32_t ApplySemMode(const char* name, mode_t mode)
{
    while (*name == '/')
        name++;
    char path[sizeof(IPC_SEM_FILE_PREFIX) + NAME_MAX + 1];
    int length = snprintf(path, sizeof(path), "%s%s", IPC_SEM_FILE_PREFIX, name);
    if (length < 0 || (size_t)length >= sizeof(path))
        return -ENAMETOOLONG;
    if (fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW) < 0)
        return ipc_neg_errno();
    return 0;
}

// sem_open that tells whether this call created the semaphore (see OpenOrCreate in
// ipc_mqueue.c): the exact mode must only ever touch a semaphore we made.
static sem_t* OpenOrCreate(const char* name, int oflag, mode_t mode, unsigned int value, int* created, int32_t* err)
{
    *created = 0;
    *err = 0;
    if ((oflag & O_CREAT) == 0)
    {
        sem_t* sem = sem_open(name, oflag);
        if (sem == SEM_FAILED)
            *err = ipc_neg_errno();
        return sem;
    }
    int32_t last = -EEXIST;
    for (int attempt = 0; attempt < IPC_CREATE_ATTEMPTS; attempt++)
    {
        sem_t* sem = sem_open(name, oflag | O_EXCL, mode, value);
        if (sem != SEM_FAILED)
        {
            *created = 1;
            return sem;
        }
        if (errno != EEXIST || (oflag & O_EXCL) != 0)
        {
            *err = ipc_neg_errno();
            return SEM_FAILED;
        }
        sem = sem_open(name, oflag & ~O_CREAT);
        if (sem != SEM_FAILED)
            return sem;
        if (errno != ENOENT)
        {
            *err = ipc_neg_errno();
            return SEM_FAILED;
        }
        last = -ENOENT;
    }
    *err = last;
    return SEM_FAILED;
}

int32_t IpcNative_SemOpen(const char* name, int32_t flags, int32_t mode, uint32_t value, void** sem)
{
    int32_t check = ipc_check_object_name(name);
    if (check < 0)
        return check;
    if (sem == NULL || (flags & ~IPC_SEM_FLAGS_KNOWN) != 0)
        return -EINVAL;
    if ((flags & IPC_O_CREAT) != 0 && ((mode & ~IPC_SEM_MODE_BITS) != 0 || value > SEM_VALUE_MAX))
        return -EINVAL;

    int created;
    int32_t err;
    sem_t* opened = OpenOrCreate(name, flags, (mode_t)mode, value, &created, &err);
    if (opened == SEM_FAILED)
        return err;
    if (created && (err = ApplySemMode(name, (mode_t)mode)) < 0)
    {
        sem_close(opened);
        sem_unlink(name);
        return err;
    }
    *sem = opened;
    return 0;
}

int32_t IpcNative_SemWait(void* sem)
{
    if (sem == NULL)
        return -EINVAL;
    int result;
    IPC_RETRY_EINTR(result, sem_wait((sem_t*)sem));
    return result < 0 ? ipc_neg_errno() : 0;
}

int32_t IpcNative_SemTimedWait(void* sem, int64_t timeoutNs, int32_t timeoutKind)
{
    if (sem == NULL)
        return -EINVAL;
    int64_t deadline;
    int infinite;
    int32_t err = ipc_monotonic_deadline(timeoutNs, timeoutKind, &deadline, &infinite);
    if (err < 0)
        return err;
    if (infinite)
        return IpcNative_SemWait(sem);
    // The deadline is absolute, so a retry after EINTR waits only for the time that is left.
    struct timespec abs = ipc_ns_to_timespec(deadline);
    int result;
    IPC_RETRY_EINTR(result, sem_clockwait((sem_t*)sem, CLOCK_MONOTONIC, &abs));
    return result < 0 ? ipc_neg_errno() : 0;
}

int32_t IpcNative_SemTryWait(void* sem)
{
    if (sem == NULL)
        return -EINVAL;
    int result;
    IPC_RETRY_EINTR(result, sem_trywait((sem_t*)sem));
    return result < 0 ? ipc_neg_errno() : 0;
}

int32_t IpcNative_SemPost(void* sem)
{
    if (sem == NULL)
        return -EINVAL;
    if (sem_post((sem_t*)sem) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_SemGetValue(void* sem)
{
    if (sem == NULL)
        return -EINVAL;
    int value;
    if (sem_getvalue((sem_t*)sem, &value) < 0)
        return ipc_neg_errno();
    // Linux (glibc) never reports waiters as a negative count.
    return value < 0 ? 0 : value;
}

int32_t IpcNative_SemClose(void* sem)
{
    if (sem == NULL)
        return -EINVAL;
    if (sem_close((sem_t*)sem) < 0)
        return ipc_neg_errno();
    return 0;
}

int32_t IpcNative_SemUnlink(const char* name)
{
    int32_t check = ipc_check_object_name(name);
    if (check < 0)
        return check;
    if (sem_unlink(name) < 0)
        return ipc_neg_errno();
    return 0;
}
