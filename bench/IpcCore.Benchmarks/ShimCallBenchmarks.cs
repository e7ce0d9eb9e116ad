using BenchmarkDotNet.Attributes;
using IpcCore.Native;

namespace IpcCore.Benchmarks;

/// <summary>
/// The fixed cost of crossing into the shim: a call marked SuppressGCTransition, a plain call that
/// does no syscall work worth mentioning, and one that makes a cheap syscall (fcntl F_GETFL).
/// </summary>
[MemoryDiagnoser]
public class ShimCallBenchmarks
{
    private SafeFdHandle _fd = null!;

    [GlobalSetup]
    public unsafe void Setup()
    {
        int efd = IpcNative.EventFd(0, 0);
        if (efd < 0)
        {
            throw new IpcException("eventfd", null, -efd);
        }
        _fd = new SafeFdHandle(efd);
    }

    [GlobalCleanup]
    public void Cleanup() => _fd.Dispose();

    [Benchmark(Baseline = true, Description = "trivial call (SuppressGCTransition)")]
    public int TrivialCallNoGcTransition() => IpcNative.GetAbiVersion();

    [Benchmark(Description = "clock_gettime(MONOTONIC) (SuppressGCTransition)")]
    public long ClockMonotonic() => IpcNative.ClockMonotonicNs();

    [Benchmark(Description = "fcntl(F_GETFL) with SafeHandle AddRef/Release")]
    public int FcntlGetFlags() => IpcNative.GetNonBlocking(_fd);
}
