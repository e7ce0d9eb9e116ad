using System.Runtime.Versioning;
using System.Text;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class FifoTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Test]
    public void Create_makes_a_FIFO_with_exactly_0600()
    {
        using var dir = new ScratchDirectory("fifo-mode");
        string path = dir.File("f");
        Fifo.Create(path);

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Mode0600));
        Assert.That(new FileInfo(path).Attributes.HasFlag(FileAttributes.Directory), Is.False);
        using PipeEnd reader = Fifo.OpenReader(path, nonBlocking: true);
        Assert.That(FileDescriptor.GetStatus(reader.Handle).IsFifo, Is.EqualTo(1));
    }

    [Test]
    public void Create_applies_the_mode_exactly_without_the_umask()
    {
        using var dir = new ScratchDirectory("fifo-umask");
        string path = dir.File("f");
        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        Fifo.Create(path, mode);
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(mode), "0666 stays 0666 whatever the umask (typically 022)");
    }

    [Test]
    public void Create_over_an_existing_path_fails_with_EEXIST()
    {
        using var dir = new ScratchDirectory("fifo-exists");
        string path = dir.File("f");
        Fifo.Create(path);
        IpcException e = Assert.Throws<IpcException>(() => Fifo.Create(path))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(e.Message, Is.EqualTo($"mkfifo('{path}'): EEXIST (File exists)"));
    }

    [Test]
    public void NonBlocking_writer_without_a_reader_fails_with_ENXIO_and_says_why()
    {
        using var dir = new ScratchDirectory("fifo-enxio");
        string path = dir.File("f");
        Fifo.Create(path);

        IpcException e = Assert.Throws<IpcException>(() => Fifo.OpenWriter(path, nonBlocking: true))!;

        Assert.That(e.ErrorNumber, Is.EqualTo(6), "ENXIO");
        Assert.That(e.ErrnoName, Is.EqualTo("ENXIO"));
        Assert.That(e.Message, Does.StartWith($"open('{path}'): ENXIO (No such device or address)")
            .And.Contain("no process has the FIFO open for reading"));
    }

    [Test]
    public void NonBlocking_reader_then_writer_round_trip_and_empty_is_WouldBlock()
    {
        using var dir = new ScratchDirectory("fifo-roundtrip");
        string path = dir.File("f");
        Fifo.Create(path);
        using PipeEnd reader = Fifo.OpenReader(path, nonBlocking: true);
        using PipeEnd writer = Fifo.OpenWriter(path, nonBlocking: true);

        byte[] buffer = new byte[32];
        Assert.That(reader.TryRead(buffer).Status, Is.EqualTo(IoStatus.WouldBlock));
        writer.WriteAll("via fifo"u8);
        IoResult result = reader.TryRead(buffer);

        Assert.That(result.BytesTransferred, Is.EqualTo(8));
        Assert.That(reader.Path, Is.EqualTo(path));
        Assert.That(FileDescriptor.IsCloseOnExec(reader.Handle) && FileDescriptor.IsCloseOnExec(writer.Handle), Is.True);
        IpcException e = Assert.Throws<IpcException>(() => reader.Read(buffer))!;
        Assert.That(e.Message, Does.StartWith($"read('{path}'): EAGAIN"), "errors name the FIFO's path");
    }

    [Test]
    public void Reader_in_this_process_receives_what_a_peer_process_writes()
    {
        using var dir = new ScratchDirectory("fifo-peer");
        string path = dir.File("f");
        Fifo.Create(path);

        using Peer peer = Peer.Start("fifo-write", path, "from another process");
        // A non-blocking open returns at once; the data and end of stream arrive once the peer opens and closes.
        using PipeEnd reader = Fifo.OpenReader(path, nonBlocking: true);
        Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo("written"));
        reader.NonBlocking = false;
        byte[] received = Waits.ReadToEnd(reader);

        Assert.That(Encoding.UTF8.GetString(received), Is.EqualTo("from another process"));
        Assert.That(peer.WaitForExit(Waits.PeerTimeout), Is.Zero, peer.StandardErrorSoFar);
    }

    [Test]
    public void Opening_a_regular_file_as_a_FIFO_is_refused()
    {
        using var dir = new ScratchDirectory("fifo-regular");
        string path = dir.File("plain.txt");
        File.WriteAllText(path, "not a fifo");

        IpcException e = Assert.Throws<IpcException>(() => Fifo.OpenReader(path, nonBlocking: true))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.Message, Does.Contain("is not a FIFO"));
    }

    [Test]
    public void Opening_a_missing_FIFO_fails_with_ENOENT()
    {
        using var dir = new ScratchDirectory("fifo-missing");
        Assert.That(Assert.Throws<IpcException>(() => Fifo.OpenReader(dir.File("none"), nonBlocking: true))!.Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void Unlink_removes_the_name_and_TryUnlink_reports_a_missing_one()
    {
        using var dir = new ScratchDirectory("fifo-unlink");
        string path = dir.File("f");
        Fifo.Create(path);
        using PipeEnd reader = Fifo.OpenReader(path, nonBlocking: true);

        Fifo.Unlink(path);

        Assert.That(File.Exists(path), Is.False);
        Assert.That(Fifo.TryUnlink(path), Is.False);
        Assert.That(Assert.Throws<IpcException>(() => Fifo.Unlink(path))!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(reader.TryRead(new byte[1]).Status, Is.EqualTo(IoStatus.EndOfStream), "an open end keeps working (no writer: end of stream)");
    }
}
