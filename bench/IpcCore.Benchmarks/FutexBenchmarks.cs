using BenchmarkDotNet.Attributes;
using IpcCore.Native;

namespace IpcCore.Benchmarks;

/// <summary>
/// Futex calls that never sleep, on a shared anonymous mapping (a shared futex, as across processes):
/// the wake a producer pays when no consumer sleeps, and a wait that returns at once because the word
/// moved on (EAGAIN). The ring buffers avoid both with a "sleeping" flag; this is their price.
/// </summary>
[MemoryDiagnoser]
public unsafe class FutexBenchmarks
{
    private void* _page;
    private long _length;

    [GlobalSetup]
    public void Setup()
    {
        _length = IpcNative.GetPageSize();
        void* addr;
        int rc = IpcNative.MMapAnonymous(_length, (int)(MmapProt.PROT_READ | MmapProt.PROT_WRITE), (int)MmapFlags.MAP_SHARED, &addr);
        if (rc < 0)
        {
            throw new IpcException("mmap", "anonymous", -rc);
        }
        _page = addr;
    }

    [GlobalCleanup]
    public void Cleanup() => _ = IpcNative.MUnmap(_page, _length);

    [Benchmark(Description = "futex wake, no waiter")]
    public int WakeNoWaiter() => IpcNative.FutexWake((uint*)_page, 1);

    [Benchmark(Description = "futex wait, value already changed (EAGAIN)")]
    public int WaitValueChanged() => IpcNative.FutexWait((uint*)_page, 1, 0, (int)TimeoutKind.TIMEOUT_INFINITE);
}
