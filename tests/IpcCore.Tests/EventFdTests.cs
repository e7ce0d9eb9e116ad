using IpcCore.Native;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class EventFdTests
{
    [Test]
    public void Signals_add_up_and_a_read_takes_and_resets_the_counter()
    {
        using EventFd e = EventFd.Create(nonBlocking: true);
        e.Signal(3);
        e.Signal(4);
        Assert.That(e.Read(), Is.EqualTo(7UL));
        Assert.That(e.TryRead(out ulong value), Is.False);
        Assert.That(value, Is.Zero);
    }

    [Test]
    public void Initial_value_is_readable_at_once()
    {
        using EventFd e = EventFd.Create(initialValue: 42);
        Assert.That(e.Read(), Is.EqualTo(42UL));
    }

    [Test]
    public void Semaphore_mode_reads_one_at_a_time()
    {
        using EventFd e = EventFd.Create(initialValue: 2, semaphore: true, nonBlocking: true);
        Assert.That(e.IsSemaphore, Is.True);
        Assert.That(e.Read(), Is.EqualTo(1UL));
        Assert.That(e.TryRead(out ulong second), Is.True);
        Assert.That(second, Is.EqualTo(1UL));
        Assert.That(e.TryRead(out _), Is.False);
    }

    [Test]
    public void NonBlocking_read_of_zero_throws_EAGAIN()
    {
        using EventFd e = EventFd.Create(nonBlocking: true);
        IpcException ex = Assert.Throws<IpcException>(() => e.Read())!;
        Assert.That(ex.Errno, Is.EqualTo(Errno.EAGAIN));
        Assert.That(ex.Message, Does.Match(@"^read\('fd \d+'\): EAGAIN"));
    }

    [Test]
    public void Signal_that_would_overflow_is_refused_when_non_blocking()
    {
        using EventFd e = EventFd.Create(nonBlocking: true);
        e.Signal(EventFd.MaxValue);
        Assert.That(e.TrySignal(1), Is.False);
        Assert.That(Assert.Throws<IpcException>(() => e.Signal())!.Errno, Is.EqualTo(Errno.EAGAIN));
        Assert.That(e.Read(), Is.EqualTo(EventFd.MaxValue));
        Assert.That(e.TrySignal(1), Is.True);
    }

    [Test]
    public void Zero_and_all_ones_are_not_valid_signals()
    {
        using EventFd e = EventFd.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => e.Signal(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => e.Signal(ulong.MaxValue));
    }

    [Test]
    public void Readable_by_poll_only_while_the_counter_is_above_zero()
    {
        using EventFd e = EventFd.Create(nonBlocking: true);
        Assert.That(FileDescriptor.Poll(e.Handle, PollEvents.POLLIN, 0), Is.EqualTo((PollEvents)0));
        e.Signal();
        Assert.That(FileDescriptor.Poll(e.Handle, PollEvents.POLLIN, 0), Is.EqualTo(PollEvents.POLLIN));
        e.Read();
        Assert.That(FileDescriptor.Poll(e.Handle, PollEvents.POLLIN, 0), Is.EqualTo((PollEvents)0));
    }

    [Test]
    public void A_blocked_reader_wakes_when_another_thread_signals()
    {
        using EventFd e = EventFd.Create();
        Task<ulong> reader = Task.Run(e.Read);
        Thread.Sleep(50);
        Assert.That(reader.IsCompleted, Is.False);
        e.Signal(9);
        Assert.That(reader.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(reader.Result, Is.EqualTo(9UL));
    }

    [Test]
    public void Is_close_on_exec_and_disposed_throws_ObjectDisposedException()
    {
        EventFd e = EventFd.Create();
        Assert.That(FileDescriptor.IsCloseOnExec(e.Handle), Is.True);
        e.Dispose();
        Assert.Throws<ObjectDisposedException>(() => e.Signal());
        Assert.Throws<ObjectDisposedException>(() => e.TryRead(out _));
    }
}
