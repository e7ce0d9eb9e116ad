using System.Globalization;
using BenchmarkDotNet.Attributes;
using IpcCore.Native;

namespace IpcCore.Benchmarks;

/// <summary>An uncontended named semaphore post followed by a wait: glibc's fast path, no syscall.</summary>
[MemoryDiagnoser]
public unsafe class SemaphoreBenchmarks
{
    private readonly string _name = string.Create(CultureInfo.InvariantCulture, $"/ipccore-bench.{Environment.ProcessId}.sem");
    private void* _sem;

    [GlobalSetup]
    public void Setup()
    {
        void* sem;
        int rc = IpcNative.SemOpen(_name, (int)(OpenFlags.O_CREAT | OpenFlags.O_EXCL), 0x180, 0, &sem);
        if (rc < 0)
        {
            throw new IpcException("sem_open", _name, -rc);
        }
        _sem = sem;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ = IpcNative.SemClose(_sem);
        _ = IpcNative.SemUnlink(_name);
    }

    [Benchmark(Description = "sem_post + sem_wait, uncontended")]
    public int PostThenWait()
    {
        _ = IpcNative.SemPost(_sem);
        return IpcNative.SemWait(_sem);
    }
}
