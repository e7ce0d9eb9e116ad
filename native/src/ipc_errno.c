// ipc_errno.c - the ABI version and errno names and descriptions.

#include "ipc_common.h"

#include <errno.h>
#include <string.h>

// The frozen IpcErrno values are the Linux ones.
c_static_assert(IPC_EPERM == EPERM);
c_static_assert(IPC_ENOENT == ENOENT);
c_static_assert(IPC_ESRCH == ESRCH);
c_static_assert(IPC_EINTR == EINTR);
c_static_assert(IPC_EIO == EIO);
c_static_assert(IPC_ENXIO == ENXIO);
c_static_assert(IPC_EBADF == EBADF);
c_static_assert(IPC_EAGAIN == EAGAIN);
c_static_assert(IPC_EAGAIN == EWOULDBLOCK);
c_static_assert(IPC_ENOMEM == ENOMEM);
c_static_assert(IPC_EACCES == EACCES);
c_static_assert(IPC_EFAULT == EFAULT);
c_static_assert(IPC_EBUSY == EBUSY);
c_static_assert(IPC_EEXIST == EEXIST);
c_static_assert(IPC_ENOTDIR == ENOTDIR);
c_static_assert(IPC_EISDIR == EISDIR);
c_static_assert(IPC_EINVAL == EINVAL);
c_static_assert(IPC_ENFILE == ENFILE);
c_static_assert(IPC_EMFILE == EMFILE);
c_static_assert(IPC_EFBIG == EFBIG);
c_static_assert(IPC_ENOSPC == ENOSPC);
c_static_assert(IPC_ESPIPE == ESPIPE);
c_static_assert(IPC_EPIPE == EPIPE);
c_static_assert(IPC_ERANGE == ERANGE);
c_static_assert(IPC_ENAMETOOLONG == ENAMETOOLONG);
c_static_assert(IPC_ENOSYS == ENOSYS);
c_static_assert(IPC_ENOTEMPTY == ENOTEMPTY);
c_static_assert(IPC_ETIME == ETIME);
c_static_assert(IPC_EOVERFLOW == EOVERFLOW);
c_static_assert(IPC_ENOTSOCK == ENOTSOCK);
c_static_assert(IPC_EMSGSIZE == EMSGSIZE);
c_static_assert(IPC_EPROTOTYPE == EPROTOTYPE);
c_static_assert(IPC_EOPNOTSUPP == EOPNOTSUPP);
c_static_assert(IPC_EADDRINUSE == EADDRINUSE);
c_static_assert(IPC_ENETDOWN == ENETDOWN);
c_static_assert(IPC_ECONNABORTED == ECONNABORTED);
c_static_assert(IPC_ECONNRESET == ECONNRESET);
c_static_assert(IPC_ENOBUFS == ENOBUFS);
c_static_assert(IPC_EISCONN == EISCONN);
c_static_assert(IPC_ENOTCONN == ENOTCONN);
c_static_assert(IPC_ETIMEDOUT == ETIMEDOUT);
c_static_assert(IPC_ECONNREFUSED == ECONNREFUSED);

// The managed side reads the version as a plain int32.
c_static_assert(sizeof(IpcAbi) == sizeof(int32_t));

int32_t IpcNative_GetAbiVersion(void)
{
    return IPC_ABI_VERSION;
}

// Copies text (with its NUL) into buf, or reports -ERANGE without writing when it does not fit.
static int32_t CopyOut(const char* text, uint8_t* buf, int32_t bufLen)
{
    size_t length = strlen(text);
    if (length >= (size_t)bufLen)
        return -ERANGE;
    memcpy(buf, text, length + 1);
    return (int32_t)length;
}

int32_t IpcNative_ErrnoName(int32_t errnum, uint8_t* buf, int32_t bufLen)
{
    if (bufLen < 0 || (buf == NULL && bufLen > 0))
        return -EINVAL;
    // strerrorname_np(0) is "0", which is not an errno name.
    const char* name = errnum > 0 ? strerrorname_np(errnum) : NULL;
    if (name == NULL)
        return -EINVAL;
    return CopyOut(name, buf, bufLen);
}

int32_t IpcNative_StrError(int32_t errnum, uint8_t* buf, int32_t bufLen)
{
    if (bufLen < 0 || (buf == NULL && bufLen > 0))
        return -EINVAL;
    // The GNU strerror_r returns either a static string or one built in scratch ("Unknown error
    // 1234"); either way the result is copied so the caller gets -ERANGE instead of a cut text.
    char scratch[256];
    const char* text = strerror_r(errnum, scratch, sizeof(scratch));
    return CopyOut(text, buf, bufLen);
}
