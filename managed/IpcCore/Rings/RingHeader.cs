using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore.Rings;

/// <summary>
/// The header at the start of a ring segment (see <c>IpcRingLayout</c> in ipccore.h, which freezes every
/// offset; tests/native/test_ring_layout.c mirrors it in C). Three 64-byte lines, each two lines from the
/// next: config (written once), producer-owned, consumer-owned; lines 64 and 192 (and 320) are padding
/// the protocol never touches. Every field has exactly one writer. Only ever accessed through a pointer
/// into the shared mapping, with the ordering-named accessors of <see cref="ShmRing"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = (int)RingLayout.RING_HEADER_SIZE)]
internal struct RingHeader
{
    // --- config line: written by the creator before anyone attaches, then read-only ---------------
    [FieldOffset((int)RingLayout.RING_OFFSET_MAGIC)] public uint Magic;
    [FieldOffset((int)RingLayout.RING_OFFSET_VERSION)] public uint Version;
    /// <summary>Data bytes (u64 in C; a power of two).</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_CAPACITY)] public long Capacity;
    /// <summary>Largest payload in bytes.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_MAX_RECORD)] public uint MaxRecord;
    [FieldOffset((int)RingLayout.RING_OFFSET_WAKE_MODE)] public uint WakeMode;
    /// <summary>Written once by the producer when it attaches (0 until then).</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_PRODUCER_PID)] public int ProducerPid;
    /// <summary>Written once by the consumer when it attaches (0 until then).</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_CONSUMER_PID)] public int ConsumerPid;

    // --- producer-owned line ------------------------------------------------------------------------
    /// <summary>Bytes ever written (u64 in C), published with release after the records are complete.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_TAIL)] public long Tail;
    /// <summary>Futex word the consumer sleeps on; the producer increments it to wake it.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_DATA_SIGNAL)] public uint DataSignal;
    /// <summary>1 while the producer is (about to be) asleep waiting for space.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_PRODUCER_SLEEPING)] public uint ProducerSleeping;

    // --- consumer-owned line ------------------------------------------------------------------------
    /// <summary>Bytes ever consumed (u64 in C), published with release once the records are read.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_HEAD)] public long Head;
    /// <summary>Futex word the producer sleeps on; the consumer increments it to wake it.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_SPACE_SIGNAL)] public uint SpaceSignal;
    /// <summary>1 while the consumer is (about to be) asleep waiting for data.</summary>
    [FieldOffset((int)RingLayout.RING_OFFSET_CONSUMER_SLEEPING)] public uint ConsumerSleeping;
}
