using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace IpcCore.Benchmarks;

/// <summary>
/// The same operations as the raw-binding benchmarks, through the public IpcCore wrappers: the
/// difference is the wrappers' own cost (argument checks, spans, SafeHandle AddRef), and the
/// allocation column must stay empty.
/// </summary>
[MemoryDiagnoser]
public class WrapperBenchmarks
{
    private readonly string _prefix = string.Create(CultureInfo.InvariantCulture, $"/ipccore-bench.{Environment.ProcessId}.wrap");
    private MessageQueue _queue = null!;
    private NamedSemaphore _semaphore = null!;
    private MappedRegion _region = null!;
    private FutexWord _word;
    private readonly byte[] _message = new byte[64];
    private readonly byte[] _receive = new byte[8192];

    [GlobalSetup]
    public void Setup()
    {
        _queue = MessageQueue.Create(_prefix + ".mq", maxMessages: 1, maxMessageSize: 8192);
        _semaphore = NamedSemaphore.Create(_prefix + ".sem");
        _region = MappedRegion.MapAnonymous(4096);
        _word = _region.GetFutexWord(0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _queue.Dispose();
        MessageQueue.TryUnlink(_prefix + ".mq");
        _semaphore.Dispose();
        NamedSemaphore.TryUnlink(_prefix + ".sem");
        _region.Dispose();
    }

    [Benchmark(Description = "MessageQueue.Send + Receive, 64 B")]
    public int QueueSendReceive()
    {
        _queue.Send(_message);
        return _queue.Receive(_receive, out _);
    }

    [Benchmark(Description = "NamedSemaphore.Post + Wait, uncontended")]
    public void SemaphorePostWait()
    {
        _semaphore.Post();
        _semaphore.Wait();
    }

    [Benchmark(Description = "FutexWord.Wake, no waiter")]
    public int FutexWake() => _word.Wake(1);
}
