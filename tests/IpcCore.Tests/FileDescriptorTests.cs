using System.Runtime.Versioning;
using System.Text;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class FileDescriptorTests
{
    [Test]
    public void Descriptor_that_is_not_open_is_EBADF()
    {
        // Far above any open descriptor (and above the usual RLIMIT_NOFILE), so it cannot be open.
        using var notOpen = new SafeFdHandle(1 << 30, ownsHandle: false);

        IpcException e = Assert.Throws<IpcException>(() => FileDescriptor.Read(notOpen, new byte[1]))!;

        Assert.That(e.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(e.Message, Is.EqualTo("read('fd 1073741824'): EBADF (Bad file descriptor)"));
        Assert.That(Assert.Throws<IpcException>(() => FileDescriptor.IsCloseOnExec(notOpen))!.Errno, Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void Closed_handle_is_ObjectDisposedException_not_a_stray_descriptor_number()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        reader.Dispose();
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => FileDescriptor.Read(reader.Handle, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => FileDescriptor.Poll(reader.Handle, PollEvents.POLLIN, 0));
    }

    [Test]
    public void Read_Write_and_Try_forms_work_on_any_SafeHandle()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (reader)
        using (writer)
        {
            Assert.That(FileDescriptor.Write(writer.Handle, "abc"u8), Is.EqualTo(3));
            Assert.That(FileDescriptor.TryWrite(writer.Handle, "de"u8), Is.EqualTo(new IoResult(IoStatus.Success, 2)));
            byte[] buffer = new byte[8];
            Assert.That(FileDescriptor.TryRead(reader.Handle, buffer), Is.EqualTo(new IoResult(IoStatus.Success, 5)));
            Assert.That(FileDescriptor.TryRead(reader.Handle, buffer).Status, Is.EqualTo(IoStatus.WouldBlock));
            Assert.That(FileDescriptor.TryRead(reader.Handle, []), Is.EqualTo(new IoResult(IoStatus.Success, 0)), "an empty buffer is not end of stream");
        }
    }

    [Test]
    public void SetNonBlocking_toggles_O_NONBLOCK()
    {
        using EventFd e = EventFd.Create();
        Assert.That(FileDescriptor.IsNonBlocking(e.Handle), Is.False);
        FileDescriptor.SetNonBlocking(e.Handle, true);
        Assert.That(FileDescriptor.IsNonBlocking(e.Handle), Is.True);
        Assert.That(e.TryRead(out _), Is.False);
        FileDescriptor.SetNonBlocking(e.Handle, false);
        Assert.That(FileDescriptor.IsNonBlocking(e.Handle), Is.False);
    }

    [Test]
    public void GetStatus_reports_size_mode_and_owner_of_a_file()
    {
        using var dir = new ScratchDirectory("fd-stat");
        string path = dir.File("f");
        File.WriteAllText(path, "12345");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        using Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(path);

        FileStatus status = FileDescriptor.GetStatus(file);

        Assert.That(status.Size, Is.EqualTo(5));
        Assert.That(status.Mode & 0xFFF, Is.EqualTo(0x1A0u), "0640");
        Assert.That(status.Mode & 0xF000, Is.EqualTo(0x8000u), "S_IFREG");
        Assert.That(status.Uid, Is.EqualTo(ProcessInfo.EffectiveUid));
        Assert.That(status.IsFifo, Is.Zero);
    }

    [Test]
    public void Poll_reports_which_handles_are_ready()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using EventFd e = EventFd.Create();
        using (reader)
        using (writer)
        {
            Span<PollEvents> ready = stackalloc PollEvents[3];
            int n = FileDescriptor.Poll([reader.Handle, writer.Handle, e.Handle], [PollEvents.POLLIN, PollEvents.POLLOUT, PollEvents.POLLIN], ready, 0);

            Assert.That(n, Is.EqualTo(1));
            Assert.That(ready[0], Is.EqualTo((PollEvents)0));
            Assert.That(ready[1], Is.EqualTo(PollEvents.POLLOUT));
            Assert.That(ready[2], Is.EqualTo((PollEvents)0));

            writer.Write("x"u8);
            e.Signal();
            n = FileDescriptor.Poll([reader.Handle, e.Handle], [PollEvents.POLLIN, PollEvents.POLLIN], ready, 1000);
            Assert.That(n, Is.EqualTo(2));
        }
    }

    [Test]
    public void Poll_times_out_with_zero_and_rejects_mismatched_spans()
    {
        using EventFd e = EventFd.Create();
        Assert.That(FileDescriptor.Poll(e.Handle, PollEvents.POLLIN, 20), Is.EqualTo((PollEvents)0));
        Assert.Throws<ArgumentException>(() => FileDescriptor.Poll([e.Handle], [], new PollEvents[1], 0));
        Assert.Throws<ArgumentException>(() => FileDescriptor.Poll([e.Handle, e.Handle], [PollEvents.POLLIN, PollEvents.POLLIN], new PollEvents[1], 0));
    }

    [Test]
    public void FileLock_second_exclusive_lock_is_refused_until_the_first_is_released()
    {
        using var dir = new ScratchDirectory("fd-flock");
        string path = dir.File("hub.lock");

        using (FileLock? first = FileLock.TryAcquireExclusive(path))
        {
            Assert.That(first, Is.Not.Null);
            Assert.That(File.GetUnixFileMode(path) & (UnixFileMode)0x1FF, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            // flock locks belong to the open file description, so a second open contends even here.
            Assert.That(FileLock.TryAcquireExclusive(path), Is.Null);
        }

        using FileLock? again = FileLock.TryAcquireExclusive(path);
        Assert.That(again, Is.Not.Null);
        Assert.That(again!.Path, Is.EqualTo(path));
        Assert.That(FileDescriptor.IsCloseOnExec(again.Handle), Is.True);
    }

    [Test]
    public void FileLock_held_by_another_process_is_refused_and_freed_when_it_exits()
    {
        using var dir = new ScratchDirectory("fd-flock-peer");
        string path = dir.File("hub.lock");

        using (Peer peer = Peer.Start("flock-hold", path))
        {
            Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo("locked"), peer.StandardErrorSoFar);
            Assert.That(FileLock.TryAcquireExclusive(path), Is.Null);
            peer.WriteLine("release");
            Assert.That(peer.WaitForExit(Waits.PeerTimeout), Is.Zero, peer.StandardErrorSoFar);
        }

        using FileLock? mine = FileLock.TryAcquireExclusive(path);
        Assert.That(mine, Is.Not.Null);
    }

    [Test]
    public void FileLock_in_a_missing_directory_fails_with_ENOENT()
    {
        using var dir = new ScratchDirectory("fd-flock-missing");
        string path = dir.File(Path.Combine("no-such-dir", "x.lock"));
        IpcException e = Assert.Throws<IpcException>(() => FileLock.TryAcquireExclusive(path))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(e.Message, Does.StartWith($"open('{path}')"));
    }

    [Test]
    public void WriteAll_writes_more_than_a_pipe_holds_while_a_reader_drains_it()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            byte[] data = Encoding.ASCII.GetBytes(new string('z', 300_000));
            Task<byte[]> drain = Task.Run(() => Waits.ReadToEnd(reader));
            using (writer)
            {
                FileDescriptor.WriteAll(writer.Handle, data);
            }
            Assert.That(drain.Wait(Waits.PeerTimeout), Is.True);
            Assert.That(drain.Result, Has.Length.EqualTo(data.Length));
        }
    }
}
