using System.Text;
using IpcCore.Native;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class PipeTests
{
    [Test]
    public void Bytes_written_to_the_write_end_come_out_of_the_read_end()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        using (writer)
        {
            writer.WriteAll("through the pipe"u8);
            byte[] buffer = new byte[64];
            int n = reader.Read(buffer);

            Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("through the pipe"));
            Assert.That(reader.Access, Is.EqualTo(FileAccess.Read));
            Assert.That(writer.Access, Is.EqualTo(FileAccess.Write));
            Assert.That(reader.Path, Is.Null);
        }
    }

    [Test]
    public void Both_ends_are_close_on_exec_and_FIFOs_by_fstat()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        using (writer)
        {
            Assert.That(FileDescriptor.IsCloseOnExec(reader.Handle), Is.True);
            Assert.That(FileDescriptor.IsCloseOnExec(writer.Handle), Is.True);
            Assert.That(FileDescriptor.GetStatus(reader.Handle).IsFifo, Is.EqualTo(1));
        }
    }

    [Test]
    public void NonBlocking_read_of_an_empty_pipe_is_WouldBlock_or_EAGAIN()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (reader)
        using (writer)
        {
            Assert.That(reader.NonBlocking, Is.True);
            Assert.That(reader.TryRead(new byte[4]), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)));
            IpcException e = Assert.Throws<IpcException>(() => reader.Read(new byte[4]))!;
            Assert.That(e.Errno, Is.EqualTo(Errno.EAGAIN));
            Assert.That(e.Message, Does.Match(@"^read\('fd \d+'\): EAGAIN \(Resource temporarily unavailable\)$"));
        }
    }

    [Test]
    public void NonBlocking_can_be_switched_on_and_off()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        using (writer)
        {
            Assert.That(reader.NonBlocking, Is.False);
            reader.NonBlocking = true;
            Assert.That(reader.TryRead(new byte[1]).Status, Is.EqualTo(IoStatus.WouldBlock));
            reader.NonBlocking = false;
            Assert.That(reader.NonBlocking, Is.False);
        }
    }

    [Test]
    public void Closed_writer_is_end_of_stream_after_the_data()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            using (writer)
            {
                writer.Write("ab"u8);
            }
            byte[] buffer = new byte[8];
            Assert.That(reader.TryRead(buffer), Is.EqualTo(new IoResult(IoStatus.Success, 2)));
            Assert.That(reader.TryRead(buffer), Is.EqualTo(new IoResult(IoStatus.EndOfStream, 0)));
            Assert.That(reader.Read(buffer), Is.Zero);
        }
    }

    [Test]
    public void Closed_reader_is_PeerClosed_or_EPIPE_for_the_writer()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (writer)
        {
            reader.Dispose();
            // POLLERR once no reader is left (after any child another fixture just forked has exec'd).
            Assert.That(FileDescriptor.Poll(writer.Handle, 0, 10_000), Is.EqualTo(PollEvents.POLLERR));
            Assert.That(writer.TryWrite("x"u8), Is.EqualTo(new IoResult(IoStatus.PeerClosed, 0)));
            Assert.That(Assert.Throws<IpcException>(() => writer.Write("x"u8))!.Errno, Is.EqualTo(Errno.EPIPE));
        }
    }

    [Test]
    public void Capacity_defaults_to_64_KiB_can_be_changed_and_bounds_a_non_blocking_writer()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (reader)
        using (writer)
        {
            Assert.That(writer.Capacity, Is.EqualTo(65536));
            writer.Capacity = 1024 * 1024;
            Assert.That(reader.Capacity, Is.EqualTo(1024 * 1024), "both ends share one capacity");
            writer.Capacity = 4096;
            Assert.That(writer.Capacity, Is.EqualTo(4096));

            // 512 divides the page: with 1000-byte writes the last would need more than the 96 bytes left
            // and, being atomic (at most PIPE_BUF), would not be split.
            byte[] chunk = new byte[512];
            long total = 0;
            IoResult result;
            while ((result = writer.TryWrite(chunk)).IsSuccess)
            {
                total += result.BytesTransferred;
            }
            Assert.That(result.Status, Is.EqualTo(IoStatus.WouldBlock));
            Assert.That(total, Is.EqualTo(4096));
        }
    }

    [Test]
    public void Capacity_cannot_shrink_below_what_is_queued()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (reader)
        using (writer)
        {
            writer.Write(new byte[4096]);
            writer.Write(new byte[4096]);
            IpcException e = Assert.Throws<IpcException>(() => writer.Capacity = 4096)!;
            Assert.That(e.Errno, Is.EqualTo(Errno.EBUSY));
            Assert.That(e.Operation, Is.EqualTo("fcntl(F_SETPIPE_SZ)"));
        }
    }

    [Test]
    public void AtomicWriteLimit_is_PIPE_BUF()
        => Assert.That(Pipe.AtomicWriteLimit, Is.EqualTo(4096));

    [Test]
    public void Direct_pipe_keeps_each_write_a_separate_packet()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(direct: true);
        using (reader)
        using (writer)
        {
            writer.Write(new byte[10]);
            writer.Write(new byte[20]);
            byte[] buffer = new byte[100];
            Assert.That(reader.Read(buffer), Is.EqualTo(10));
            Assert.That(reader.Read(buffer), Is.EqualTo(20));
        }
    }

    [Test]
    public void Disposed_end_throws_ObjectDisposedException()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        reader.Dispose();
        writer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => reader.Read(new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => writer.TryWrite("x"u8));
        Assert.Throws<ObjectDisposedException>(() => _ = writer.Capacity);
    }

    [Test]
    public void FromHandle_takes_a_descriptor_and_rejects_nonsense()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        using (PipeEnd again = PipeEnd.FromHandle(writer.Handle, FileAccess.Write))
        {
            again.WriteAll("ok"u8);
            Assert.That(reader.Read(new byte[2]), Is.EqualTo(2));
            Assert.Throws<ArgumentOutOfRangeException>(() => PipeEnd.FromHandle(writer.Handle, FileAccess.ReadWrite));
            Assert.Throws<ArgumentOutOfRangeException>(() => PipeEnd.FromHandle(new SafeFdHandle(), FileAccess.Read));
        }
    }
}
