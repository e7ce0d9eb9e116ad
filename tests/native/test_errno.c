// test_errno.c - IpcNative_GetAbiVersion, ErrnoName, StrError and the clocks.

#include "ipctest.h"

#include <time.h>

static void test_abi_version(void)
{
    CHECK_EQ(IpcNative_GetAbiVersion(), IPC_ABI_VERSION);
    CHECK_EQ(IpcNative_GetAbiVersion(), 1);
}

static void test_errno_name(void)
{
    static const struct
    {
        int value;
        const char* name;
    } known[] = {
        { IPC_EPERM, "EPERM" },       { IPC_ENOENT, "ENOENT" },           { IPC_ESRCH, "ESRCH" },
        { IPC_EINTR, "EINTR" },       { IPC_EIO, "EIO" },                 { IPC_EBADF, "EBADF" },
        { IPC_EAGAIN, "EAGAIN" },     { IPC_ENOMEM, "ENOMEM" },           { IPC_EACCES, "EACCES" },
        { IPC_EFAULT, "EFAULT" },     { IPC_EBUSY, "EBUSY" },             { IPC_EEXIST, "EEXIST" },
        { IPC_ENOTDIR, "ENOTDIR" },   { IPC_EISDIR, "EISDIR" },           { IPC_EINVAL, "EINVAL" },
        { IPC_ENFILE, "ENFILE" },     { IPC_EMFILE, "EMFILE" },           { IPC_EFBIG, "EFBIG" },
        { IPC_ENOSPC, "ENOSPC" },     { IPC_ESPIPE, "ESPIPE" },           { IPC_EPIPE, "EPIPE" },
        { IPC_ERANGE, "ERANGE" },     { IPC_ENAMETOOLONG, "ENAMETOOLONG" }, { IPC_ENOSYS, "ENOSYS" },
        { IPC_ENOTEMPTY, "ENOTEMPTY" }, { IPC_ETIME, "ETIME" },           { IPC_EOVERFLOW, "EOVERFLOW" },
        { IPC_ENOTSOCK, "ENOTSOCK" }, { IPC_EMSGSIZE, "EMSGSIZE" },       { IPC_EPROTOTYPE, "EPROTOTYPE" },
        { IPC_EOPNOTSUPP, "EOPNOTSUPP" }, { IPC_EADDRINUSE, "EADDRINUSE" }, { IPC_ENETDOWN, "ENETDOWN" },
        { IPC_ECONNABORTED, "ECONNABORTED" }, { IPC_ECONNRESET, "ECONNRESET" }, { IPC_ENOBUFS, "ENOBUFS" },
        { IPC_EISCONN, "EISCONN" },   { IPC_ENOTCONN, "ENOTCONN" },       { IPC_ETIMEDOUT, "ETIMEDOUT" },
        { IPC_ECONNREFUSED, "ECONNREFUSED" },
    };
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    {
        memset(buf, 0xAA, sizeof(buf));
        int32_t length = (int32_t)PASS(IpcNative_ErrnoName(known[i].value, buf, sizeof(buf)));
        CHECK_STR((const char*)buf, known[i].name);
        CHECK_EQ(length, (int64_t)strlen(known[i].name));
    }

    // Exactly enough room (name + NUL) works; one byte less is -ERANGE and leaves buf alone.
    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(PASS(IpcNative_ErrnoName(EACCES, buf, 7)), 6);
    CHECK_STR((const char*)buf, "EACCES");
    memset(buf, 'x', sizeof(buf));
    FAIL(IpcNative_ErrnoName(EACCES, buf, 6), ERANGE);
    CHECK_EQ(buf[0], 'x');
    FAIL(IpcNative_ErrnoName(EACCES, buf, 0), ERANGE);
    FAIL(IpcNative_ErrnoName(EACCES, NULL, 0), ERANGE);

    // Not an errno.
    FAIL(IpcNative_ErrnoName(0, buf, sizeof(buf)), EINVAL);
    FAIL(IpcNative_ErrnoName(-1, buf, sizeof(buf)), EINVAL);
    FAIL(IpcNative_ErrnoName(99999, buf, sizeof(buf)), EINVAL);
    // Bad buffers.
    FAIL(IpcNative_ErrnoName(EACCES, buf, -1), EINVAL);
    FAIL(IpcNative_ErrnoName(EACCES, NULL, 16), EINVAL);
}

static void test_str_error(void)
{
    uint8_t buf[128];
    const char* expected = "Permission denied";
    int32_t length = (int32_t)PASS(IpcNative_StrError(EACCES, buf, sizeof(buf)));
    CHECK_STR((const char*)buf, expected);
    CHECK_EQ(length, (int64_t)strlen(expected));

    CHECK_EQ(PASS(IpcNative_StrError(ETIMEDOUT, buf, sizeof(buf))), (int64_t)strlen("Connection timed out"));
    CHECK_STR((const char*)buf, "Connection timed out");

    // Exactly enough room, then one byte short.
    CHECK_EQ(PASS(IpcNative_StrError(EACCES, buf, (int32_t)strlen(expected) + 1)), (int64_t)strlen(expected));
    memset(buf, 'x', sizeof(buf));
    FAIL(IpcNative_StrError(EACCES, buf, (int32_t)strlen(expected)), ERANGE);
    CHECK_EQ(buf[0], 'x');
    FAIL(IpcNative_StrError(EACCES, buf, 0), ERANGE);

    // Unknown numbers still get a description (strerror_r's "Unknown error N").
    PASS(IpcNative_StrError(99999, buf, sizeof(buf)));
    CHECK_STR((const char*)buf, "Unknown error 99999");
    FAIL(IpcNative_StrError(EACCES, buf, -5), EINVAL);
    FAIL(IpcNative_StrError(EACCES, NULL, 16), EINVAL);
}

static void test_clocks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t before = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    int64_t mono1 = IpcNative_ClockMonotonicNs();
    ipct_sleep_ms(20);
    int64_t mono2 = IpcNative_ClockMonotonicNs();
    CHECK(mono1 >= before);
    CHECK(mono2 - mono1 >= 19 * 1000000LL);

    int64_t realtime = IpcNative_ClockRealtimeNs();
    time_t now = time(NULL);
    // Within a few seconds of time(2) (a loaded machine may be slow between the calls).
    CHECK(realtime / 1000000000 >= (int64_t)now - 5 && realtime / 1000000000 <= (int64_t)now + 5);
}

TEST_LIST = {
    { "abi_version", test_abi_version },
    { "errno_name", test_errno_name },
    { "str_error", test_str_error },
    { "clocks", test_clocks },
    { NULL, NULL },
};
