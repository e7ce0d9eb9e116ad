using System.Globalization;
using IpcCore;
using IpcCore.Native;
using IpcCore.Rings;
using MyIpcBench.Model;

namespace MyIpcBench.Raw;

/// <summary>
/// Shared memory: a <see cref="ShmRing"/> in /PREFIX.ping (sender → receiver) and, for latency, one in
/// /PREFIX.pong; in semaphore wake mode each ring also has /PREFIX.{ping,pong}.{data,space}. The receiver
/// creates them, the sender attaches once the ring is initialised.
/// </summary>
internal sealed class ShmRingMechanism : RawMechanism
{
    // Records the consumer peeks before handing their space back, at most (fewer when records are large).
    private const int MaxReleaseBatch = 64;

    private SharedMemory? _pingMemory;
    private SharedMemory? _pongMemory;
    private ShmRing? _pingRing;
    private ShmRing? _pongRing;

    public ShmRingMechanism(RawOptions options) : base(options)
    {
    }

    private string PingName => Options.PosixName(".ping");

    private string PongName => Options.PosixName(".pong");

    public override void RemoveNames()
    {
        SharedMemory.TryUnlink(PingName);
        SharedMemory.TryUnlink(PongName);
        if (Options.Wake == ShmWake.Semaphore)
        {
            foreach (RingSemaphoreNames names in (ReadOnlySpan<RingSemaphoreNames>)[Semaphores(".ping")!, Semaphores(".pong")!])
            {
                NamedSemaphore.TryUnlink(names.Data);
                NamedSemaphore.TryUnlink(names.Space);
            }
        }
    }

    protected override void OpenReceiver()
    {
        // pong first: once ping is initialised, the sender may rely on both.
        if (Options.HasPong)
        {
            (_pongMemory, _pongRing) = CreateRing(PongName, Semaphores(".pong"));
            Output = new RingSink(_pongRing.CreateProducer(), PongName, Options.SpinMicroseconds);
        }
        (_pingMemory, _pingRing) = CreateRing(PingName, Semaphores(".ping"));
        int releaseEvery = Options.HasPong ? 1 : ReleaseBatch(_pingRing.Capacity, Options.MessageSize);
        Input = new RingSource(_pingRing.CreateConsumer(), PingName, Options.MessageSize, Options.SpinMicroseconds, releaseEvery);
        BindWaitCalls(Semaphores(".ping")?.Data);
    }

    protected override void OpenSender()
    {
        (_pingMemory, _pingRing) = AttachRing(PingName, Semaphores(".ping"));
        Output = new RingSink(_pingRing.CreateProducer(), PingName, Options.SpinMicroseconds);
        if (Options.HasPong)
        {
            (_pongMemory, _pongRing) = AttachRing(PongName, Semaphores(".pong"));
            Input = new RingSource(_pongRing.CreateConsumer(), PongName, Options.MessageSize, Options.SpinMicroseconds, releaseEvery: 1);
        }
        BindWaitCalls(Semaphores(".ping")?.Space);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The rings (and their semaphores) before the mappings they point into.
            _pingRing?.Dispose();
            _pongRing?.Dispose();
            _pingMemory?.Dispose();
            _pongMemory?.Dispose();
        }
    }

    /// <summary>
    /// Calls each shim entry point a ring wait or wake may call once, now: the first call of an entry point
    /// binds it (the library's resolver runs and allocates), which belongs to the setup, not to the
    /// measured loop. <paramref name="ownSemaphore"/>: a semaphore only this side sleeps on (semaphore
    /// mode), posted and taken back at once; the peer posts it only after this side announced a sleep.
    /// </summary>
    private static unsafe void BindWaitCalls(string? ownSemaphore)
    {
        _ = MonotonicClock.NowNs;
        _ = ProcessInfo.IsAlive(ProcessInfo.CurrentPid);
        if (ownSemaphore is null)
        {
            uint word = 0;
            _ = Futex.Wake(&word, 1);
            _ = Futex.Wait(&word, expected: 1, deadlineNs: 0); // the word differs: returns at once
            return;
        }
        using NamedSemaphore semaphore = NamedSemaphore.Open(ownSemaphore);
        semaphore.Post();
        _ = semaphore.TryWait();
        _ = semaphore.Wait(deadlineNs: 0); // the count is 0 again and the deadline passed: returns at once
    }

    private RingSemaphoreNames? Semaphores(string direction)
        => Options.Wake == ShmWake.Semaphore
            ? new RingSemaphoreNames(Options.PosixName(direction + ".data"), Options.PosixName(direction + ".space"))
            : null;

    private (SharedMemory Memory, ShmRing Ring) CreateRing(string name, RingSemaphoreNames? semaphores)
    {
        SharedMemory memory = SharedMemory.Create(name, ShmRing.RequiredSize(Options.RingBytes));
        try
        {
            // Touch every page now, so the measurement does not pay for first-touch page faults here.
            memory.Span.Clear();
            RingWakeMode mode = Options.Wake == ShmWake.Semaphore ? RingWakeMode.Semaphore : RingWakeMode.Futex;
            return (memory, ShmRing.Create(memory.Region, Options.RingBytes, Options.MessageSize, mode, semaphores));
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    private (SharedMemory Memory, ShmRing Ring) AttachRing(string name, RingSemaphoreNames? semaphores)
    {
        (SharedMemory memory, ShmRing ring) = RetryWhileMissing($"attach the ring '{name}'", () =>
            {
                SharedMemory opened = SharedMemory.Open(name);
                try
                {
                    return (opened, ShmRing.Attach(opened.Region, semaphores));
                }
                catch
                {
                    opened.Dispose();
                    throw;
                }
            },
            // Not created yet (ENOENT), created but not sized yet (EINVAL: empty), sized but not initialised (no magic).
            ex => IsErrno(ex, Errno.ENOENT, Errno.EINVAL) || ex is InvalidDataException);
        if (ring.MaxRecord < Options.MessageSize)
        {
            ring.Dispose();
            memory.Dispose();
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"the ring '{name}' takes records of up to {ring.MaxRecord} bytes, not {Options.MessageSize} (the receiver has other options)"));
        }
        return (memory, ring);
    }

    /// <summary>Release at least four times per ring's worth of records, and at least every <see cref="MaxReleaseBatch"/>.</summary>
    private static int ReleaseBatch(long capacity, int messageSize)
        => (int)Math.Clamp(capacity / (4L * (messageSize + 16)), 1, MaxReleaseBatch);
}
