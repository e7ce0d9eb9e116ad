using System.Diagnostics;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class EpollTests
{
    [Test]
    public void Wait_reports_the_ready_handle_with_its_data()
    {
        using EpollSet epoll = EpollSet.Create();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using EventFd eventFd = EventFd.Create(nonBlocking: true);
        using (reader)
        using (writer)
        {
            epoll.Add(reader.Handle, PollEvents.POLLIN, 101);
            epoll.Add(eventFd.Handle, PollEvents.POLLIN, 202);
            Span<EpollEvent> events = stackalloc EpollEvent[8];

            Assert.That(epoll.Wait(events, 0), Is.Zero);

            writer.Write("x"u8);
            int n = epoll.Wait(events, 1000);
            Assert.That(n, Is.EqualTo(1));
            Assert.That(events[0].Data, Is.EqualTo(101UL));
            Assert.That((PollEvents)events[0].Events, Is.EqualTo(PollEvents.POLLIN));

            eventFd.Signal();
            n = epoll.Wait(events, 1000);
            Assert.That(n, Is.EqualTo(2), "level-triggered: the unread pipe is still ready");
            Assert.That((ulong[])[events[0].Data, events[1].Data], Is.EquivalentTo((ulong[])[101UL, 202UL]));
        }
    }

    [Test]
    public void Wait_times_out_with_zero_after_the_timeout()
    {
        using EpollSet epoll = EpollSet.Create();
        using EventFd eventFd = EventFd.Create();
        epoll.Add(eventFd.Handle, PollEvents.POLLIN, 1);
        var events = new EpollEvent[4];

        var watch = Stopwatch.StartNew();
        int n = epoll.Wait(events, 100);

        Assert.That(n, Is.Zero);
        Assert.That(watch.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(90));
    }

    [Test]
    public void Wait_wakes_when_another_thread_makes_a_handle_ready()
    {
        using EpollSet epoll = EpollSet.Create();
        using EventFd eventFd = EventFd.Create();
        epoll.Add(eventFd.Handle, PollEvents.POLLIN, 7);
        var events = new EpollEvent[1];

        Task<int> waiter = Task.Run(() => epoll.Wait(events, -1));
        Thread.Sleep(50);
        eventFd.Signal();

        Assert.That(waiter.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(waiter.Result, Is.EqualTo(1));
        Assert.That(events[0].Data, Is.EqualTo(7UL));
    }

    [Test]
    public void Modify_changes_events_and_data_and_Remove_stops_reports()
    {
        using EpollSet epoll = EpollSet.Create();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        using (writer)
        {
            var events = new EpollEvent[4];
            epoll.Add(writer.Handle, PollEvents.POLLIN, 1);
            Assert.That(epoll.Wait(events, 0), Is.Zero, "a write end is never readable");

            epoll.Modify(writer.Handle, PollEvents.POLLOUT, 2);
            Assert.That(epoll.Wait(events, 0), Is.EqualTo(1));
            Assert.That(events[0].Data, Is.EqualTo(2UL));
            Assert.That((PollEvents)events[0].Events, Is.EqualTo(PollEvents.POLLOUT));

            epoll.Remove(writer.Handle);
            Assert.That(epoll.Wait(events, 0), Is.Zero);

            IpcException e = Assert.Throws<IpcException>(() => epoll.Remove(writer.Handle))!;
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
            Assert.That(e.Message, Does.Match(@"^epoll_ctl\(EPOLL_CTL_DEL\)\('fd \d+'\): ENOENT"));
            Assert.That(Assert.Throws<IpcException>(() => epoll.Modify(writer.Handle, PollEvents.POLLOUT, 3))!.Errno, Is.EqualTo(Errno.ENOENT));
        }
    }

    [Test]
    public void Adding_a_handle_twice_fails_with_EEXIST()
    {
        using EpollSet epoll = EpollSet.Create();
        using EventFd eventFd = EventFd.Create();
        epoll.Add(eventFd.Handle, PollEvents.POLLIN, 1);
        Assert.That(Assert.Throws<IpcException>(() => epoll.Add(eventFd.Handle, PollEvents.POLLIN, 1))!.Errno, Is.EqualTo(Errno.EEXIST));
    }

    [Test]
    public void Closed_writer_is_reported_as_hang_up_without_asking()
    {
        using EpollSet epoll = EpollSet.Create();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            epoll.Add(reader.Handle, PollEvents.POLLIN, 5);
            writer.Dispose();
            var events = new EpollEvent[2];
            Assert.That(epoll.Wait(events, 10_000), Is.EqualTo(1));
            Assert.That(((PollEvents)events[0].Events & PollEvents.POLLHUP) != 0, Is.True);
        }
    }

    [Test]
    public void Closing_a_registered_handle_removes_it_from_the_set()
    {
        using EpollSet epoll = EpollSet.Create();
        EventFd eventFd = EventFd.Create(initialValue: 1);
        epoll.Add(eventFd.Handle, PollEvents.POLLIN, 9);
        var events = new EpollEvent[2];
        Assert.That(epoll.Wait(events, 0), Is.EqualTo(1));

        eventFd.Dispose();

        // A child that another fixture forked may hold a copy until it execs, keeping the file (and so the
        // registration) alive for a moment: allow for that, but no longer.
        var watch = Stopwatch.StartNew();
        while (epoll.Wait(events, 0) != 0 && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(10);
        }
        Assert.That(epoll.Wait(events, 0), Is.Zero);
    }

    [Test]
    public void A_listening_socket_is_readable_when_a_client_connects()
    {
        using var dir = new ScratchDirectory("epoll-accept");
        string path = dir.File("l.sock");
        using UnixSocket listener = UnixSocket.CreateStream(nonBlocking: true);
        listener.Bind(path);
        listener.Listen();
        using EpollSet epoll = EpollSet.Create();
        epoll.Add(listener.Handle, PollEvents.POLLIN, 1);
        var events = new EpollEvent[1];
        Assert.That(epoll.Wait(events, 0), Is.Zero);

        using UnixSocket client = UnixSocket.CreateStream();
        client.Connect(path);

        Assert.That(epoll.Wait(events, 1000), Is.EqualTo(1));
        using UnixSocket? accepted = listener.TryAccept();
        Assert.That(accepted, Is.Not.Null);
    }

    [Test]
    public void Bad_arguments_and_disposed_set_are_rejected()
    {
        EpollSet epoll = EpollSet.Create();
        Assert.That(FileDescriptor.IsCloseOnExec(epoll.Handle), Is.True);
        Assert.Throws<ArgumentException>(() => epoll.Wait([], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => epoll.Wait(new EpollEvent[1], -2));
        Assert.Throws<ArgumentNullException>(() => epoll.Add(null!, PollEvents.POLLIN, 0));
        epoll.Dispose();
        Assert.Throws<ObjectDisposedException>(() => epoll.Wait(new EpollEvent[1], 0));
        using EventFd e = EventFd.Create();
        Assert.Throws<ObjectDisposedException>(() => epoll.Add(e.Handle, PollEvents.POLLIN, 0));
    }
}
