// test_shm.c - POSIX shared memory, mappings, memfds and seals.

#include "ipctest.h"

static int32_t closed_fd(void)
{
    int32_t fd = (int32_t)PASS(IpcNative_EventFd(0, 0));
    PASS(IpcNative_Close(fd));
    return fd;
}

static void test_open_unlink(void)
{
    const char* name = ipct_shm_name("open");
    const char* missing = ipct_shm_name("missing");

    int32_t fd = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600));
    CHECK_EQ(IpcNative_GetCloseOnExec(fd), 1);
    FAIL(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600), EEXIST);
    int32_t second = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDONLY, 0));
    CHECK_EQ(IpcNative_GetCloseOnExec(second), 1);
    PASS(IpcNative_Close(second));

    // O_TRUNC of an existing object.
    PASS(IpcNative_FTruncate(fd, 4096));
    second = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_TRUNC, 0));
    IpcFileStatus status;
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.size, 0);
    PASS(IpcNative_Close(second));

    FAIL(IpcNative_ShmOpen(missing, IPC_O_RDWR, 0), ENOENT);
    FAIL(IpcNative_ShmUnlink(missing), ENOENT);

    PASS(IpcNative_Close(fd));
    CHECK_EQ(PASS(IpcNative_ShmUnlink(name)), 0);
    FAIL(IpcNative_ShmUnlink(name), ENOENT);
    FAIL(IpcNative_ShmOpen(name, IPC_O_RDWR, 0), ENOENT);
}

static void test_open_errors(void)
{
    const char* name = ipct_shm_name("errors");
    FAIL(IpcNative_ShmOpen("no-slash", IPC_O_RDWR | IPC_O_CREAT, 0600), EINVAL);
    FAIL(IpcNative_ShmOpen(NULL, IPC_O_RDWR | IPC_O_CREAT, 0600), EINVAL);
    FAIL(IpcNative_ShmUnlink("no-slash"), EINVAL);
    char longName[300];
    memset(longName, 'm', sizeof(longName));
    longName[0] = '/';
    longName[sizeof(longName) - 1] = '\0';
    FAIL(IpcNative_ShmOpen(longName, IPC_O_RDWR | IPC_O_CREAT, 0600), ENAMETOOLONG);
    FAIL(IpcNative_ShmUnlink(longName), ENAMETOOLONG);
    FAIL(IpcNative_ShmOpen(name, IPC_O_WRONLY | IPC_O_CREAT, 0600), EINVAL);
    FAIL(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_NONBLOCK, 0600), EINVAL);
    FAIL(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT, 04600), EINVAL);
    FAIL(IpcNative_ShmUnlink(name), ENOENT); // nothing was created
}

static void test_mode_exact(void)
{
    const char* name = ipct_shm_name("mode");
    IpcFileStatus status;

    mode_t old = umask(077);
    int32_t fd = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0666));
    umask(old);
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.mode & 07777, 0666);
    PASS(IpcNative_Close(fd));
    PASS(IpcNative_ShmUnlink(name));

    // O_CREAT alone: exact when it creates, untouched when the object exists.
    umask(022);
    fd = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT, 0660));
    umask(old);
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.mode & 07777, 0660);
    int32_t again = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT, 0600));
    PASS(IpcNative_FStat(again, &status));
    CHECK_EQ(status.mode & 07777, 0660);
    PASS(IpcNative_Close(again));
    PASS(IpcNative_Close(fd));
    PASS(IpcNative_ShmUnlink(name));
}

static void test_truncate_mmap(void)
{
    const char* name = ipct_shm_name("mmap");
    int32_t page = IpcNative_GetPageSize();
    CHECK_EQ(page, sysconf(_SC_PAGESIZE));
    CHECK(page >= 4096);

    int32_t fd = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600));
    CHECK_EQ(PASS(IpcNative_FTruncate(fd, 2 * (int64_t)page)), 0);
    IpcFileStatus status;
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.size, 2 * (int64_t)page);
    FAIL(IpcNative_FTruncate(fd, -1), EINVAL);

    // Two shared mappings of one object see each other's writes; a private one does not leak back.
    void* a = NULL;
    void* b = NULL;
    void* p = NULL;
    PASS(IpcNative_MMap(fd, 2 * (int64_t)page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &a));
    PASS(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED | IPC_MAP_POPULATE, page, &b));
    PASS(IpcNative_MMap(fd, page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_PRIVATE, page, &p));
    if (a != NULL && b != NULL && p != NULL)
    {
        strcpy((char*)a + page, "shared");
        CHECK_STR((const char*)b, "shared");
        CHECK_STR((const char*)p, "shared");
        strcpy((char*)p, "private");
        CHECK_STR((const char*)b, "shared");
    }
    CHECK_EQ(PASS(IpcNative_MUnmap(p, page)), 0);
    PASS(IpcNative_MUnmap(b, page));

    // Argument errors.
    void* out = NULL;
    FAIL(IpcNative_MMap(fd, page, 0x4 /* PROT_EXEC */, IPC_MAP_SHARED, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED | IPC_MAP_PRIVATE, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_POPULATE, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED | IPC_MAP_ANONYMOUS, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED | 0x10 /* MAP_FIXED */, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, 0, IPC_PROT_READ, IPC_MAP_SHARED, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, -1, IPC_PROT_READ, IPC_MAP_SHARED, 0, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED, -4096, &out), EINVAL);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED, 100, &out), EINVAL); // unaligned offset
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED, 0, NULL), EINVAL);
    FAIL(IpcNative_MMap(closed_fd(), page, IPC_PROT_READ, IPC_MAP_SHARED, 0, &out), EBADF);
    // A read-only descriptor cannot back a shared writable mapping.
    int32_t ro = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDONLY, 0));
    FAIL(IpcNative_MMap(ro, page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &out), EACCES);
    PASS(IpcNative_Close(ro));

    FAIL(IpcNative_MUnmap(a, 0), EINVAL);
    FAIL(IpcNative_MUnmap((char*)a + 1, page), EINVAL); // unaligned
    PASS(IpcNative_MUnmap(a, 2 * (int64_t)page));
    FAIL(IpcNative_FTruncate(closed_fd(), 0), EBADF);
    PASS(IpcNative_Close(fd));
    PASS(IpcNative_ShmUnlink(name));
}

static void test_mmap_anonymous(void)
{
    int32_t page = IpcNative_GetPageSize();
    void* addr = NULL;
    PASS(IpcNative_MMapAnonymous(page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_PRIVATE, &addr));
    if (addr != NULL)
    {
        CHECK_EQ(((uint8_t*)addr)[0], 0);
        ((uint8_t*)addr)[page - 1] = 7;
        PASS(IpcNative_MUnmap(addr, page));
    }
    // IPC_MAP_ANONYMOUS may be given; it is implied anyway.
    PASS(IpcNative_MMapAnonymous(page, IPC_PROT_READ, IPC_MAP_SHARED | IPC_MAP_ANONYMOUS | IPC_MAP_POPULATE, &addr));
    PASS(IpcNative_MUnmap(addr, page));
    PASS(IpcNative_MMapAnonymous(page, IPC_PROT_NONE, IPC_MAP_PRIVATE, &addr));
    PASS(IpcNative_MUnmap(addr, page));

    FAIL(IpcNative_MMapAnonymous(0, IPC_PROT_READ, IPC_MAP_PRIVATE, &addr), EINVAL);
    FAIL(IpcNative_MMapAnonymous(page, IPC_PROT_READ, 0, &addr), EINVAL);
    FAIL(IpcNative_MMapAnonymous(page, 0x8, IPC_MAP_PRIVATE, &addr), EINVAL);
    FAIL(IpcNative_MMapAnonymous(page, IPC_PROT_READ, IPC_MAP_PRIVATE | 0x100, &addr), EINVAL);
    FAIL(IpcNative_MMapAnonymous(page, IPC_PROT_READ, IPC_MAP_PRIVATE, NULL), EINVAL);
}

// A MAP_SHARED mapping of a named object carries data from a child to its parent.
static void test_shared_across_fork(void)
{
    const char* name = ipct_shm_name("fork");
    int32_t page = IpcNative_GetPageSize();
    int32_t fd = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600));
    PASS(IpcNative_FTruncate(fd, page));

    pid_t child = ipct_fork();
    if (child == 0)
    {
        // The child maps the object on its own, by name.
        int32_t own = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR, 0));
        void* addr = NULL;
        if (PASS(IpcNative_MMap(own, page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr)) == 0)
        {
            strcpy((char*)addr, "from the child");
            PASS(IpcNative_MUnmap(addr, page));
        }
        PASS(IpcNative_Close(own));
        PASS(IpcNative_Close(fd));
        ipct_child_exit();
    }
    ipct_wait_child(child);

    void* addr = NULL;
    if (PASS(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED, 0, &addr)) == 0)
    {
        CHECK_STR((const char*)addr, "from the child");
        PASS(IpcNative_MUnmap(addr, page));
    }
    PASS(IpcNative_Close(fd));
    PASS(IpcNative_ShmUnlink(name));
}

static void test_memfd(void)
{
    int32_t fd = (int32_t)PASS(IpcNative_MemfdCreate("ipccore-ctest", 0));
    CHECK_EQ(IpcNative_GetCloseOnExec(fd), 1);
    PASS(IpcNative_Write(fd, (const uint8_t*)"memfd", 5));
    IpcFileStatus status;
    PASS(IpcNative_FStat(fd, &status));
    CHECK_EQ(status.size, 5);
    CHECK(S_ISREG(status.mode));
    // Without MFD_ALLOW_SEALING the memfd is born with F_SEAL_SEAL.
    CHECK_EQ(PASS(IpcNative_GetSeals(fd)), IPC_F_SEAL_SEAL);
    FAIL(IpcNative_AddSeals(fd, IPC_F_SEAL_WRITE), EPERM);
    PASS(IpcNative_Close(fd));

    fd = (int32_t)PASS(IpcNative_MemfdCreate("", IPC_MFD_CLOEXEC));
    PASS(IpcNative_Close(fd));

    FAIL(IpcNative_MemfdCreate("x", 0x4 /* MFD_HUGETLB */), EINVAL);
    FAIL(IpcNative_MemfdCreate(NULL, 0), EINVAL);
    char longName[300];
    memset(longName, 'l', sizeof(longName));
    longName[sizeof(longName) - 1] = '\0';
    FAIL(IpcNative_MemfdCreate(longName, 0), EINVAL);
}

static void test_seals(void)
{
    int32_t page = IpcNative_GetPageSize();
    int32_t fd = (int32_t)PASS(IpcNative_MemfdCreate("ipccore-ctest-sealed", IPC_MFD_ALLOW_SEALING));
    CHECK_EQ(PASS(IpcNative_GetSeals(fd)), 0);
    PASS(IpcNative_FTruncate(fd, page));
    PASS(IpcNative_Write(fd, (const uint8_t*)"sealed", 6));

    // F_SEAL_WRITE is refused while a shared writable mapping exists.
    void* addr = NULL;
    PASS(IpcNative_MMap(fd, page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr));
    FAIL(IpcNative_AddSeals(fd, IPC_F_SEAL_WRITE), EBUSY);
    PASS(IpcNative_MUnmap(addr, page));

    CHECK_EQ(PASS(IpcNative_AddSeals(fd, IPC_F_SEAL_WRITE | IPC_F_SEAL_SHRINK | IPC_F_SEAL_GROW)), 0);
    CHECK_EQ(PASS(IpcNative_GetSeals(fd)), IPC_F_SEAL_WRITE | IPC_F_SEAL_SHRINK | IPC_F_SEAL_GROW);
    FAIL(IpcNative_Write(fd, (const uint8_t*)"more", 4), EPERM);
    FAIL(IpcNative_FTruncate(fd, page / 2), EPERM);
    FAIL(IpcNative_FTruncate(fd, 2 * (int64_t)page), EPERM);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr), EPERM);
    // Reading is still fine.
    PASS(IpcNative_MMap(fd, page, IPC_PROT_READ, IPC_MAP_SHARED, 0, &addr));
    CHECK(memcmp(addr, "sealed", 6) == 0);
    PASS(IpcNative_MUnmap(addr, page));

    // F_SEAL_SEAL ends all further sealing.
    PASS(IpcNative_AddSeals(fd, IPC_F_SEAL_SEAL));
    FAIL(IpcNative_AddSeals(fd, IPC_F_SEAL_FUTURE_WRITE), EPERM);
    FAIL(IpcNative_AddSeals(fd, 0x20), EINVAL);
    PASS(IpcNative_Close(fd));

    // F_SEAL_FUTURE_WRITE: no new writes, even with an existing mapping around.
    fd = (int32_t)PASS(IpcNative_MemfdCreate("ipccore-ctest-future", IPC_MFD_ALLOW_SEALING));
    PASS(IpcNative_FTruncate(fd, page));
    PASS(IpcNative_AddSeals(fd, IPC_F_SEAL_FUTURE_WRITE));
    FAIL(IpcNative_Write(fd, (const uint8_t*)"x", 1), EPERM);
    FAIL(IpcNative_MMap(fd, page, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr), EPERM);
    PASS(IpcNative_Close(fd));

    // Not sealable at all.
    int32_t fds[2];
    PASS(IpcNative_Pipe2(fds, 0));
    FAIL(IpcNative_GetSeals(fds[0]), EINVAL);
    FAIL(IpcNative_AddSeals(fds[1], IPC_F_SEAL_WRITE), EINVAL);
    FAIL(IpcNative_AddSeals(fds[0], IPC_F_SEAL_WRITE), EPERM); // not open for writing
    PASS(IpcNative_Close(fds[0]));
    PASS(IpcNative_Close(fds[1]));
    FAIL(IpcNative_GetSeals(closed_fd()), EBADF);
    FAIL(IpcNative_AddSeals(closed_fd(), IPC_F_SEAL_WRITE), EBADF);
}

TEST_LIST = {
    { "open_unlink", test_open_unlink },
    { "open_errors", test_open_errors },
    { "mode_exact", test_mode_exact },
    { "truncate_mmap", test_truncate_mmap },
    { "mmap_anonymous", test_mmap_anonymous },
    { "shared_across_fork", test_shared_across_fork },
    { "memfd", test_memfd },
    { "seals", test_seals },
    { NULL, NULL },
};
