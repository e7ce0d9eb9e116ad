// test_ring_layout.c - the C mirror of the shared-memory ring header (managed/IpcCore/Rings/RingHeader.cs)
// agrees with the frozen IpcRingLayout constants of ipccore.h, and a header written through the mirror
// reads back at those byte offsets from a real shared-memory mapping.

#include "ipctest.h"

#include <stddef.h>

typedef struct ipct_ring_header
{
    // config line (0)
    uint32_t magic;
    uint32_t version;
    uint64_t capacity;
    uint32_t maxRecord;
    uint32_t wakeMode;
    int32_t producerPid;
    int32_t consumerPid;
    uint8_t configRest[IPC_RING_CACHE_LINE - 32];
    uint8_t padding1[IPC_RING_CACHE_LINE]; // line 64: never touched
    // producer line (128)
    uint64_t tail;
    uint32_t dataSignal;
    uint32_t producerSleeping;
    uint8_t producerRest[IPC_RING_CACHE_LINE - 16];
    uint8_t padding3[IPC_RING_CACHE_LINE]; // line 192: never touched
    // consumer line (256)
    uint64_t head;
    uint32_t spaceSignal;
    uint32_t consumerSleeping;
    uint8_t consumerRest[IPC_RING_CACHE_LINE - 16];
    uint8_t padding5[IPC_RING_CACHE_LINE]; // line 320: never touched
} ipct_ring_header;

_Static_assert(sizeof(ipct_ring_header) == IPC_RING_HEADER_SIZE, "header size");
_Static_assert(offsetof(ipct_ring_header, magic) == IPC_RING_OFFSET_CONFIG, "config line");
_Static_assert(offsetof(ipct_ring_header, magic) == IPC_RING_OFFSET_MAGIC, "magic");
_Static_assert(offsetof(ipct_ring_header, version) == IPC_RING_OFFSET_VERSION, "version");
_Static_assert(offsetof(ipct_ring_header, capacity) == IPC_RING_OFFSET_CAPACITY, "capacity");
_Static_assert(offsetof(ipct_ring_header, maxRecord) == IPC_RING_OFFSET_MAX_RECORD, "maxRecord");
_Static_assert(offsetof(ipct_ring_header, wakeMode) == IPC_RING_OFFSET_WAKE_MODE, "wakeMode");
_Static_assert(offsetof(ipct_ring_header, producerPid) == IPC_RING_OFFSET_PRODUCER_PID, "producerPid");
_Static_assert(offsetof(ipct_ring_header, consumerPid) == IPC_RING_OFFSET_CONSUMER_PID, "consumerPid");
_Static_assert(offsetof(ipct_ring_header, tail) == IPC_RING_OFFSET_PRODUCER, "producer line");
_Static_assert(offsetof(ipct_ring_header, tail) == IPC_RING_OFFSET_TAIL, "tail");
_Static_assert(offsetof(ipct_ring_header, dataSignal) == IPC_RING_OFFSET_DATA_SIGNAL, "dataSignal");
_Static_assert(offsetof(ipct_ring_header, producerSleeping) == IPC_RING_OFFSET_PRODUCER_SLEEPING, "producerSleeping");
_Static_assert(offsetof(ipct_ring_header, head) == IPC_RING_OFFSET_CONSUMER, "consumer line");
_Static_assert(offsetof(ipct_ring_header, head) == IPC_RING_OFFSET_HEAD, "head");
_Static_assert(offsetof(ipct_ring_header, spaceSignal) == IPC_RING_OFFSET_SPACE_SIGNAL, "spaceSignal");
_Static_assert(offsetof(ipct_ring_header, consumerSleeping) == IPC_RING_OFFSET_CONSUMER_SLEEPING, "consumerSleeping");
// The two sides' lines are two cache lines apart (no false sharing, no adjacent-line prefetch pairing).
_Static_assert(IPC_RING_OFFSET_CONSUMER - IPC_RING_OFFSET_PRODUCER == 2 * IPC_RING_CACHE_LINE, "consumer/producer distance");
_Static_assert(IPC_RING_OFFSET_PRODUCER - IPC_RING_OFFSET_CONFIG == 2 * IPC_RING_CACHE_LINE, "producer/config distance");
_Static_assert(IPC_RING_HEADER_SIZE % IPC_RING_RECORD_ALIGN == 0, "data region aligned");
_Static_assert(IPC_RING_RECORD_HEADER % IPC_RING_RECORD_ALIGN == 0, "record header aligned");
_Static_assert((IPC_RING_MIN_CAPACITY & (IPC_RING_MIN_CAPACITY - 1)) == 0, "min capacity is a power of two");
_Static_assert(IPC_RING_MAGIC == 0x474E5249, "magic is \"IRNG\"");

static void test_layout_in_shared_memory(void)
{
    const char* name = ipct_shm_name("ring");
    int64_t size = IPC_RING_HEADER_SIZE + IPC_RING_MIN_CAPACITY;
    int32_t fd = (int32_t)PASS(IpcNative_ShmOpen(name, IPC_O_RDWR | IPC_O_CREAT | IPC_O_EXCL, 0600));
    PASS(IpcNative_FTruncate(fd, size));
    void* addr = NULL;
    PASS(IpcNative_MMap(fd, size, IPC_PROT_READ | IPC_PROT_WRITE, IPC_MAP_SHARED, 0, &addr));
    PASS(IpcNative_Close(fd));

    ipct_ring_header* h = (ipct_ring_header*)addr;
    h->magic = IPC_RING_MAGIC;
    h->version = IPC_RING_VERSION;
    h->capacity = IPC_RING_MIN_CAPACITY;
    h->maxRecord = IPC_RING_MIN_CAPACITY / 2 - IPC_RING_RECORD_HEADER;
    h->wakeMode = IPC_RING_WAKE_FUTEX;
    h->producerPid = 11;
    h->consumerPid = 22;
    __atomic_store_n(&h->tail, 0x0102030405060708ull, __ATOMIC_RELEASE);
    __atomic_store_n(&h->head, 0x1112131415161718ull, __ATOMIC_RELEASE);
    h->dataSignal = 3;
    h->spaceSignal = 4;

    const uint8_t* bytes = (const uint8_t*)addr;
    uint32_t u32;
    uint64_t u64;
    memcpy(&u32, bytes + IPC_RING_OFFSET_MAGIC, 4);
    CHECK_EQ(u32, IPC_RING_MAGIC);
    CHECK(memcmp(bytes, "IRNG", 4) == 0);
    memcpy(&u64, bytes + IPC_RING_OFFSET_CAPACITY, 8);
    CHECK_EQ(u64, IPC_RING_MIN_CAPACITY);
    memcpy(&u64, bytes + IPC_RING_OFFSET_TAIL, 8);
    CHECK_EQ(u64, 0x0102030405060708ll);
    memcpy(&u64, bytes + IPC_RING_OFFSET_HEAD, 8);
    CHECK_EQ(u64, 0x1112131415161718ll);
    memcpy(&u32, bytes + IPC_RING_OFFSET_DATA_SIGNAL, 4);
    CHECK_EQ(u32, 3);
    memcpy(&u32, bytes + IPC_RING_OFFSET_SPACE_SIGNAL, 4);
    CHECK_EQ(u32, 4);

    // The padding lines stay zero; the futex words are usable as shared futexes.
    for (int i = 0; i < IPC_RING_CACHE_LINE; i++)
    {
        CHECK_EQ(h->padding1[i], 0);
        CHECK_EQ(h->padding3[i], 0);
        CHECK_EQ(h->padding5[i], 0);
    }
    FAIL(IpcNative_FutexWait(&h->dataSignal, 2, 0, IPC_TIMEOUT_RELATIVE), EAGAIN);
    FAIL(IpcNative_FutexWait(&h->spaceSignal, 4, 0, IPC_TIMEOUT_RELATIVE), ETIMEDOUT);
    CHECK_EQ(PASS(IpcNative_FutexWake(&h->dataSignal, 1)), 0);

    PASS(IpcNative_MUnmap(addr, size));
    PASS(IpcNative_ShmUnlink(name));
}

TEST_LIST = {
    { "layout_in_shared_memory", test_layout_in_shared_memory },
    { NULL, NULL },
};
