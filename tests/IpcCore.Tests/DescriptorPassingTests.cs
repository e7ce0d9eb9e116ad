using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

/// <summary>SCM_RIGHTS over <see cref="UnixSocket"/>: in-process pairs and a real second process.</summary>
[TestFixture]
public sealed class DescriptorPassingTests
{
    [Test]
    public void Peer_reads_a_file_through_the_descriptor_we_sent_and_it_is_close_on_exec()
    {
        using var dir = new ScratchDirectory("fd-file");
        string socketPath = dir.File("hub.sock");
        string filePath = dir.File("data.txt");
        byte[] content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("line of the shared file\n", 500)));
        File.WriteAllBytes(filePath, content);

        using UnixSocket listener = UnixSocket.CreateStream();
        listener.Bind(socketPath);
        listener.Listen();
        using Peer peer = Peer.Start("socket-read-fd", socketPath);
        using UnixSocket connection = Waits.Accept(listener, peer);

        using (SafeHandle file = File.OpenHandle(filePath, FileMode.Open, FileAccess.Read))
        {
            Assert.That(connection.SendWithDescriptors("here is the file"u8, [file]), Is.EqualTo(16));
        }
        // Our copy is closed now: the peer reads through its own descriptor of the same open file.

        Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo("payload here is the file"));
        Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo("cloexec True"));
        Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo($"content {content.Length} {Convert.ToHexString(SHA256.HashData(content))}"));
        Assert.That(peer.WaitForExit(Waits.PeerTimeout), Is.Zero, peer.StandardErrorSoFar);
    }

    [Test]
    public void Peer_writes_into_the_pipe_write_end_we_sent()
    {
        using var dir = new ScratchDirectory("fd-pipe");
        string socketPath = dir.File("hub.sock");
        using UnixSocket listener = UnixSocket.CreateStream();
        listener.Bind(socketPath);
        listener.Listen();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            using Peer peer = Peer.Start("socket-write-pipe", socketPath, "written by the peer through a passed pipe");
            using (UnixSocket connection = Waits.Accept(listener, peer))
            using (writer)
            {
                connection.SendWithDescriptors("w"u8, [writer.Handle]);
            }

            // End of stream comes only when the peer closes its copy too, so this also shows it did.
            byte[] received = Waits.ReadToEnd(reader);

            Assert.That(Encoding.UTF8.GetString(received), Is.EqualTo("written by the peer through a passed pipe"));
            Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo("written"));
            Assert.That(peer.WaitForExit(Waits.PeerTimeout), Is.Zero, peer.StandardErrorSoFar);
        }
    }

    [Test]
    public void Peer_receiving_more_descriptors_than_it_allows_gets_EMSGSIZE_and_keeps_none()
    {
        using var dir = new ScratchDirectory("fd-ctrunc-peer");
        string socketPath = dir.File("hub.sock");
        using UnixSocket listener = UnixSocket.CreateStream();
        listener.Bind(socketPath);
        listener.Listen();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        using (writer)
        {
            using Peer peer = Peer.Start("socket-recv-ctrunc", socketPath, "2");
            using UnixSocket connection = Waits.Accept(listener, peer);
            Assert.That(peer.ReadLine(Waits.PeerTimeout), Is.EqualTo("ready"));

            SafeHandle w = writer.Handle;
            connection.SendWithDescriptors("five"u8, [w, w, w, w, w]);

            string line = peer.ReadLine(Waits.PeerTimeout);
            TestContext.Out.WriteLine($"peer: {line}");
            string[] result = line.Split(' ');
            Assert.That(result[0], Is.EqualTo("EMSGSIZE"), peer.StandardErrorSoFar);
            Assert.That(result[2], Is.EqualTo(result[1]), "open descriptors in the peer before and after the failed receive");
            Assert.That(peer.WaitForExit(Waits.PeerTimeout), Is.Zero, peer.StandardErrorSoFar);
        }
    }

    [Test]
    public void Too_many_descriptors_for_the_receiver_is_EMSGSIZE_and_none_of_them_leaks()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (a)
        using (b)
        using (reader)
        {
            using (writer)
            {
                a.SendWithDescriptors("x"u8, [writer.Handle, writer.Handle, writer.Handle, writer.Handle]);
            }

            var received = new List<SafeFdHandle>();
            IpcException e = Assert.Throws<IpcException>(() => b.TryReceiveWithDescriptors(new byte[8], received, maxDescriptors: 3))!;

            Assert.That(e.Errno, Is.EqualTo(Errno.EMSGSIZE));
            Assert.That(e.Message, Does.Contain("more than 3 descriptors"));
            Assert.That(received, Is.Empty);
            AssertNoWriterLeft(reader);
        }
    }

    [Test]
    public void Plain_Receive_of_a_message_with_descriptors_is_EMSGSIZE_and_closes_them()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (a)
        using (b)
        using (reader)
        {
            using (writer)
            {
                a.SendWithDescriptors("x"u8, [writer.Handle]);
            }
            Assert.That(Assert.Throws<IpcException>(() => b.Receive(new byte[8]))!.Errno, Is.EqualTo(Errno.EMSGSIZE));
            AssertNoWriterLeft(reader);
        }
    }

    [Test]
    public void Received_descriptors_work_are_close_on_exec_and_keep_their_order()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(UnixSocketType.SeqPacket);
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using EventFd eventFd = EventFd.Create();
        using (a)
        using (b)
        using (reader)
        using (writer)
        {
            a.SendWithDescriptors("three"u8, [eventFd.Handle, writer.Handle, reader.Handle]);

            byte[] buffer = new byte[16];
            ReceivedMessage message = b.ReceiveWithDescriptors(buffer);
            try
            {
                Assert.That(message.Length, Is.EqualTo(5));
                Assert.That(message.Descriptors, Has.Count.EqualTo(3));
                Assert.That(message.Descriptors.Select(FileDescriptor.IsCloseOnExec), Is.All.True);
                Assert.That(message.Descriptors.Select(d => d.Fd), Is.Unique);

                // [0] is the eventfd: a signal through it is seen by the original.
                FileDescriptor.Write(message.Descriptors[0], BitConverter.GetBytes(5UL));
                Assert.That(eventFd.Read(), Is.EqualTo(5UL));
                // [1] is the write end, [2] the read end of one pipe.
                FileDescriptor.WriteAll(message.Descriptors[1], "through copies"u8);
                int n = FileDescriptor.Read(message.Descriptors[2], buffer);
                Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("through copies"));
                Assert.That(FileDescriptor.GetStatus(message.Descriptors[2]).IsFifo, Is.EqualTo(1));
            }
            finally
            {
                message.CloseDescriptors();
            }
        }
    }

    [Test]
    public void A_message_without_descriptors_allocates_no_handle_array_and_reports_end_of_stream()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using (b)
        {
            using (a)
            {
                a.Send("plain"u8);
            }
            ReceivedMessage message = b.ReceiveWithDescriptors(new byte[16]);
            Assert.That(message.Length, Is.EqualTo(5));
            Assert.That(message.Descriptors, Is.Empty);
            Assert.That(message.Descriptors, Is.SameAs(Array.Empty<SafeFdHandle>()));

            ReceivedMessage end = b.ReceiveWithDescriptors(new byte[16]);
            Assert.That(end.IsEndOfStream, Is.True);
        }
    }

    [Test]
    public void The_maximum_of_253_descriptors_fits_in_one_message()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (a)
        using (b)
        using (reader)
        {
            using (writer)
            {
                SafeHandle[] many = Enumerable.Repeat<SafeHandle>(writer.Handle, UnixSocket.MaxDescriptorsPerMessage).ToArray();
                a.SendWithDescriptors("m"u8, many);
            }

            var received = new List<SafeFdHandle>();
            IoResult result = b.TryReceiveWithDescriptors(new byte[4], received);
            Assert.That(result, Is.EqualTo(new IoResult(IoStatus.Success, 1)));
            Assert.That(received, Has.Count.EqualTo(253));
            Assert.That(reader.TryRead(new byte[1]).Status, Is.EqualTo(IoStatus.WouldBlock), "the received write ends keep the pipe open");

            received.ForEach(h => h.Dispose());
            AssertNoWriterLeft(reader);
        }
    }

    [Test]
    public void More_than_253_descriptors_is_rejected_before_sending_with_a_clear_message()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(nonBlocking: true);
        using EventFd e = EventFd.Create();
        using (a)
        using (b)
        {
            SafeHandle[] tooMany = Enumerable.Repeat<SafeHandle>(e.Handle, 254).ToArray();
            ArgumentException ex = Assert.Throws<ArgumentException>(() => a.SendWithDescriptors("x"u8, tooMany))!;
            Assert.That(ex.Message, Does.Contain("at most 253 descriptors").And.Contain("got 254"));
            Assert.That(b.TryReceive(new byte[4]).Status, Is.EqualTo(IoStatus.WouldBlock), "nothing was sent");
        }
    }

    [Test]
    public void Descriptors_need_a_payload_byte_and_open_handles()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using EventFd open = EventFd.Create();
        EventFd closed = EventFd.Create();
        closed.Dispose();
        using (a)
        using (b)
        {
            Assert.Throws<ArgumentException>(() => a.SendWithDescriptors([], [open.Handle]));
            Assert.Throws<ObjectDisposedException>(() => a.SendWithDescriptors("x"u8, [open.Handle, closed.Handle]));
            Assert.Throws<ArgumentException>(() => a.SendWithDescriptors("x"u8, [new SafeFdHandle()]));

            // The failed call released the reference it took on the open handle: it still closes.
            open.Dispose();
            Assert.That(open.Handle.IsClosed, Is.True);
        }
    }

    [Test]
    public void Would_block_send_with_descriptors_sends_nothing()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(nonBlocking: true);
        using EventFd e = EventFd.Create();
        using (a)
        using (b)
        {
            byte[] chunk = new byte[8192];
            while (a.TrySend(chunk).IsSuccess)
            {
            }
            while (a.TrySend("y"u8).IsSuccess)
            {
            }
            Assert.That(a.TrySendWithDescriptors("x"u8, [e.Handle]), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)));
        }
    }

    /// <summary>
    /// Asserts that every write end of the pipe is closed: a (non-blocking) read says end of stream. A
    /// leaked copy of a write end anywhere in this process would make it WouldBlock instead. The poll
    /// first waits out a child that another fixture forked and that has not reached exec (and dropped
    /// its close-on-exec copies) yet.
    /// </summary>
    private static void AssertNoWriterLeft(PipeEnd reader)
    {
        _ = FileDescriptor.Poll(reader.Handle, PollEvents.POLLIN, 10_000);
        Assert.That(reader.TryRead(new byte[8]).Status, Is.EqualTo(IoStatus.EndOfStream), "a write end is still open somewhere");
    }
}
