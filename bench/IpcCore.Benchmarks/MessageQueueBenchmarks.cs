using System.Globalization;
using BenchmarkDotNet.Attributes;
using IpcCore.Native;

namespace IpcCore.Benchmarks;

/// <summary>
/// One mq_send and one mq_receive of the same message in one process: the cost of a queue hop
/// without a context switch, at 64 B and at the unprivileged maximum of 8 KiB.
/// </summary>
[MemoryDiagnoser]
public unsafe class MessageQueueBenchmarks
{
    private readonly string _name = string.Create(CultureInfo.InvariantCulture, $"/ipccore-bench.{Environment.ProcessId}.mq");
    private SafeFdHandle _mq = null!;
    private byte[] _send = [];
    private byte[] _receive = [];

    [Params(64, 8192)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int mq = IpcNative.MqOpen(_name, (int)(OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL), 0x180, 1, 8192);
        if (mq < 0)
        {
            throw new IpcException("mq_open", _name, -mq);
        }
        _mq = new SafeFdHandle(mq);
        _send = GC.AllocateArray<byte>(Size, pinned: true);
        _receive = GC.AllocateArray<byte>(8192, pinned: true);
        Random.Shared.NextBytes(_send);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mq.Dispose();
        _ = IpcNative.MqUnlink(_name);
    }

    [Benchmark(Description = "mq_send + mq_receive")]
    public int SendReceive()
    {
        fixed (byte* s = _send)
        fixed (byte* r = _receive)
        {
            _ = IpcNative.MqSend(_mq, s, _send.Length, 0, 0, (int)TimeoutKind.TIMEOUT_INFINITE);
            uint prio;
            return IpcNative.MqReceive(_mq, r, _receive.Length, &prio, 0, (int)TimeoutKind.TIMEOUT_INFINITE);
        }
    }
}
