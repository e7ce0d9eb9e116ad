using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

/// <summary>
/// <see cref="DescriptorInbox"/> and <see cref="DescriptorBatch"/> (ownership and order of received
/// descriptor batches), <see cref="UnixSocket.TryReceiveStream"/> and <see cref="FileDescriptor.Duplicate"/>.
/// Whether a descriptor is closed is seen through a pipe: its read end reads end of stream only once
/// every copy of the write end is closed (descriptor numbers are reused by parallel tests, so they
/// prove nothing).
/// </summary>
[TestFixture]
public sealed class DescriptorInboxTests
{
    // --- DescriptorBatch -----------------------------------------------------------------------------

    [Test]
    public void A_received_batch_holds_its_handles_in_order()
    {
        using WriterCopies pipe = WriterCopies.Create(3);
        SafeFdHandle[] handles = pipe.Take();
        using DescriptorBatch batch = DescriptorBatch.Received(handles);
        Assert.Multiple(() =>
        {
            Assert.That(batch.IsLost, Is.False);
            Assert.That(batch.Count, Is.EqualTo(3));
            Assert.That(batch.Handles, Is.EqualTo(handles));
            Assert.That(batch.ToString(), Is.EqualTo("3 descriptors"));
        });
    }

    [Test]
    public void A_lost_batch_holds_nothing()
    {
        using DescriptorBatch lost = DescriptorBatch.Lost();
        Assert.Multiple(() =>
        {
            Assert.That(lost.IsLost, Is.True);
            Assert.That(lost.Count, Is.Zero);
            Assert.That(lost.Handles, Is.Empty);
            Assert.That(lost.TakeHandles(), Is.Empty);
            Assert.That(lost.ToString(), Is.EqualTo("lost descriptor batch"));
        });
    }

    [Test]
    public void Received_refuses_null()
        => Assert.That(() => DescriptorBatch.Received(null!), Throws.ArgumentNullException);

    [Test]
    public void Disposing_a_batch_closes_its_descriptors()
    {
        using WriterCopies pipe = WriterCopies.Create(2);
        SafeFdHandle[] handles = pipe.Take();
        var batch = DescriptorBatch.Received(handles);
        AssertWriterOpen(pipe.Reader);

        batch.Dispose();

        Assert.That(handles.Select(h => h.IsClosed), Is.All.True);
        Assert.That(batch.Count, Is.Zero);
        Assert.That(batch.Handles, Is.Empty);
        AssertNoWriterLeft(pipe.Reader);
        batch.Dispose(); // twice is harmless
    }

    [Test]
    public void TakeHandles_transfers_ownership_so_disposing_the_batch_closes_nothing()
    {
        using WriterCopies pipe = WriterCopies.Create(2);
        SafeFdHandle[] handles = pipe.Take();
        var batch = DescriptorBatch.Received(handles);

        SafeFdHandle[] taken = batch.TakeHandles();
        batch.Dispose();

        Assert.That(taken, Is.EqualTo(handles));
        Assert.That(batch.Count, Is.Zero);
        Assert.That(batch.TakeHandles(), Is.Empty, "nothing is left to take");
        Assert.That(taken.Select(h => h.IsClosed), Is.All.False);
        AssertWriterOpen(pipe.Reader);

        foreach (SafeFdHandle h in taken)
        {
            h.Dispose();
        }
        AssertNoWriterLeft(pipe.Reader);
    }

    // --- DescriptorInbox -----------------------------------------------------------------------------

    [Test]
    public void The_inbox_gives_batches_back_in_arrival_order_and_counts_their_descriptors()
    {
        using WriterCopies pipe = WriterCopies.Create(3);
        SafeFdHandle[] all = pipe.Take();
        using var inbox = new DescriptorInbox();
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((0, 0)));

        var first = DescriptorBatch.Received([all[0], all[1]]);
        var lost = DescriptorBatch.Lost();
        var third = DescriptorBatch.Received([all[2]]);
        inbox.Add(first);
        inbox.Add(lost);
        inbox.Add(third);
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((3, 3)));

        Assert.That(inbox.TryPeek(out DescriptorBatch peeked), Is.True);
        Assert.That(peeked, Is.SameAs(first));
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((3, 3)), "peeking leaves the batch in");

        Assert.That(inbox.TryTake(out DescriptorBatch taken), Is.True);
        using (taken)
        {
            Assert.That(taken, Is.SameAs(first));
        }
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((2, 1)));

        Assert.That(inbox.TryPeek(out peeked), Is.True);
        Assert.That(peeked, Is.SameAs(lost));
        Assert.That(inbox.TryTake(out taken), Is.True);
        Assert.That(taken.IsLost, Is.True);
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((1, 1)));

        Assert.That(inbox.TryTake(out taken), Is.True);
        using (taken)
        {
            Assert.That(taken, Is.SameAs(third));
        }
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((0, 0)));

        Assert.That(inbox.TryTake(out _), Is.False);
        Assert.That(inbox.TryPeek(out _), Is.False);
        AssertNoWriterLeft(pipe.Reader);
    }

    [Test]
    public void Add_refuses_null()
    {
        using var inbox = new DescriptorInbox();
        Assert.That(() => inbox.Add(null!), Throws.ArgumentNullException);
    }

    [Test]
    public void Clear_closes_every_waiting_descriptor_and_the_inbox_stays_usable()
    {
        using WriterCopies pipe = WriterCopies.Create(3);
        SafeFdHandle[] all = pipe.Take();
        using var inbox = new DescriptorInbox();
        inbox.Add(DescriptorBatch.Received([all[0]]));
        inbox.Add(DescriptorBatch.Lost());
        inbox.Add(DescriptorBatch.Received([all[1], all[2]]));

        inbox.Clear();

        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((0, 0)));
        Assert.That(all.Select(h => h.IsClosed), Is.All.True);
        AssertNoWriterLeft(pipe.Reader);

        using var later = new WriterCopies(1);
        SafeFdHandle[] more = later.Take();
        inbox.Add(DescriptorBatch.Received(more));
        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((1, 1)), "a cleared inbox takes new batches");
        Assert.That(more[0].IsClosed, Is.False);
    }

    [Test]
    public void Disposing_the_inbox_closes_what_waits_but_not_what_was_taken()
    {
        using WriterCopies waiting = WriterCopies.Create(2);
        using WriterCopies claimed = WriterCopies.Create(1);
        SafeFdHandle[] waitingHandles = waiting.Take();
        SafeFdHandle[] claimedHandles = claimed.Take();
        var inbox = new DescriptorInbox();
        inbox.Add(DescriptorBatch.Received(claimedHandles));
        inbox.Add(DescriptorBatch.Received(waitingHandles));
        Assert.That(inbox.TryTake(out DescriptorBatch taken), Is.True);

        using (taken)
        {
            inbox.Dispose();

            Assert.That(waitingHandles.Select(h => h.IsClosed), Is.All.True);
            AssertNoWriterLeft(waiting.Reader);
            Assert.That(claimedHandles[0].IsClosed, Is.False, "the taken batch belongs to the caller");
            AssertWriterOpen(claimed.Reader);
        }
        AssertNoWriterLeft(claimed.Reader);
    }

    [Test]
    public void A_batch_added_to_a_disposed_inbox_is_closed_at_once()
    {
        using WriterCopies pipe = WriterCopies.Create(2);
        SafeFdHandle[] handles = pipe.Take();
        var inbox = new DescriptorInbox();
        inbox.Dispose();

        inbox.Add(DescriptorBatch.Received(handles));

        Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((0, 0)));
        Assert.That(handles.Select(h => h.IsClosed), Is.All.True);
        AssertNoWriterLeft(pipe.Reader);
    }

    // --- UnixSocket.TryReceiveStream -------------------------------------------------------------------

    [Test]
    public void TryReceiveStream_gives_the_bytes_and_their_batch_in_order()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using EventFd eventFd = EventFd.Create();
        using var inbox = new DescriptorInbox();
        using (a)
        using (b)
        using (reader)
        {
            using (writer)
            {
                Assert.That(a.SendWithDescriptors("frame"u8, [eventFd.Handle, writer.Handle]), Is.EqualTo(5));
            }

            byte[] buffer = new byte[64];
            IoResult result = b.TryReceiveStream(buffer, inbox);

            Assert.That(result, Is.EqualTo(new IoResult(IoStatus.Success, 5)));
            Assert.That(Encoding.ASCII.GetString(buffer, 0, 5), Is.EqualTo("frame"));
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((1, 2)));
            Assert.That(inbox.TryTake(out DescriptorBatch batch), Is.True);
            using (batch)
            {
                Assert.That(batch.IsLost, Is.False);
                Assert.That(batch.Handles.Select(FileDescriptor.IsCloseOnExec), Is.All.True);
                // [0] is the eventfd, [1] the pipe's write end: each reaches the original.
                FileDescriptor.Write(batch.Handles[0], BitConverter.GetBytes(3UL));
                Assert.That(eventFd.Read(), Is.EqualTo(3UL));
                FileDescriptor.WriteAll(batch.Handles[1], "via copy"u8);
                int n = reader.Read(buffer);
                Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("via copy"));
            }
            AssertNoWriterLeft(reader);
        }
    }

    [Test]
    public void TryReceiveStream_takes_one_batch_per_call()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using WriterCopies pipe = WriterCopies.Create(1);
        using var inbox = new DescriptorInbox();
        using (a)
        using (b)
        {
            SafeHandle w = pipe.Handles[0];
            a.SendWithDescriptors("first"u8, [w]);
            a.SendWithDescriptors("second"u8, [w, w]);
            a.Send("plain"u8);

            byte[] buffer = new byte[64];
            Assert.That(b.TryReceiveStream(buffer, inbox), Is.EqualTo(new IoResult(IoStatus.Success, 5)));
            Assert.That(Encoding.ASCII.GetString(buffer, 0, 5), Is.EqualTo("first"));
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((1, 1)));

            Assert.That(b.TryReceiveStream(buffer, inbox), Is.EqualTo(new IoResult(IoStatus.Success, 6)));
            Assert.That(Encoding.ASCII.GetString(buffer, 0, 6), Is.EqualTo("second"));
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((2, 3)));

            Assert.That(b.TryReceiveStream(buffer, inbox), Is.EqualTo(new IoResult(IoStatus.Success, 5)));
            Assert.That(Encoding.ASCII.GetString(buffer, 0, 5), Is.EqualTo("plain"));
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((2, 3)), "plain bytes bring no batch");

            Assert.That(inbox.TryTake(out DescriptorBatch one), Is.True);
            Assert.That(inbox.TryTake(out DescriptorBatch two), Is.True);
            using (one)
            using (two)
            {
                Assert.That((one.Count, two.Count), Is.EqualTo((1, 2)), "in the order they were sent");
            }
        }
        pipe.CloseOriginals();
        AssertNoWriterLeft(pipe.Reader);
    }

    [Test]
    public void The_batch_comes_with_the_first_bytes_of_its_send_and_the_rest_comes_without()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using WriterCopies pipe = WriterCopies.Create(1);
        using var inbox = new DescriptorInbox();
        using (a)
        using (b)
        {
            a.SendWithDescriptors("abcdef"u8, [pipe.Handles[0]]);

            byte[] small = new byte[2];
            Assert.That(b.TryReceiveStream(small, inbox), Is.EqualTo(new IoResult(IoStatus.Success, 2)));
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((1, 1)));

            byte[] rest = new byte[16];
            Assert.That(b.TryReceiveStream(rest, inbox), Is.EqualTo(new IoResult(IoStatus.Success, 4)));
            Assert.That(Encoding.ASCII.GetString(rest, 0, 4), Is.EqualTo("cdef"));
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((1, 1)), "the batch is not delivered twice");
        }
    }

    [Test]
    public void TryReceiveStream_with_dontWait_on_an_empty_blocking_socket_would_block()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using var inbox = new DescriptorInbox();
        using (a)
        using (b)
        {
            Assert.That(b.NonBlocking, Is.False);
            Assert.That(b.TryReceiveStream(new byte[8], inbox, dontWait: true), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)));
            Assert.That(inbox.Batches, Is.Zero);

            a.Send("x"u8);
            Assert.That(b.TryReceiveStream(new byte[8], inbox, dontWait: true), Is.EqualTo(new IoResult(IoStatus.Success, 1)));
        }
    }

    [Test]
    public void TryReceiveStream_on_a_non_blocking_socket_would_block_and_reports_end_of_stream()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(nonBlocking: true);
        using var inbox = new DescriptorInbox();
        using (b)
        {
            using (a)
            {
                Assert.That(b.TryReceiveStream(new byte[8], inbox).Status, Is.EqualTo(IoStatus.WouldBlock));
            }
            Assert.That(b.TryReceiveStream(new byte[8], inbox).Status, Is.EqualTo(IoStatus.EndOfStream));
            Assert.That(inbox.Batches, Is.Zero);
        }
    }

    [Test]
    public void TryReceiveStream_refuses_a_null_inbox_and_a_disposed_socket()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using var inbox = new DescriptorInbox();
        using (a)
        {
            using (b)
            {
                Assert.That(() => b.TryReceiveStream(new byte[8], null!), Throws.ArgumentNullException);
            }
            Assert.That(() => b.TryReceiveStream(new byte[8], inbox), Throws.InstanceOf<ObjectDisposedException>());
        }
    }

    [Test]
    public void Descriptors_received_into_a_disposed_inbox_are_closed_at_once()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using WriterCopies pipe = WriterCopies.Create(1);
        var inbox = new DescriptorInbox();
        inbox.Dispose();
        using (a)
        using (b)
        {
            a.SendWithDescriptors("x"u8, [pipe.Handles[0]]);
            pipe.CloseOriginals();

            Assert.That(b.TryReceiveStream(new byte[8], inbox), Is.EqualTo(new IoResult(IoStatus.Success, 1)));
            Assert.That(inbox.Batches, Is.Zero);
            AssertNoWriterLeft(pipe.Reader);
        }
    }

    [Test]
    public void Disposing_the_inbox_closes_received_descriptors()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using WriterCopies pipe = WriterCopies.Create(1);
        var inbox = new DescriptorInbox();
        using (a)
        using (b)
        {
            a.SendWithDescriptors("x"u8, [pipe.Handles[0]]);
            a.SendWithDescriptors("y"u8, [pipe.Handles[0], pipe.Handles[0]]);
            pipe.CloseOriginals();
            b.TryReceiveStream(new byte[8], inbox);
            b.TryReceiveStream(new byte[8], inbox);
            Assert.That((inbox.Batches, inbox.Descriptors), Is.EqualTo((2, 3)));
            AssertWriterOpen(pipe.Reader);

            inbox.Dispose();

            AssertNoWriterLeft(pipe.Reader);
        }
    }

    // --- FileDescriptor.Duplicate -------------------------------------------------------------------

    [Test]
    public void Duplicate_is_a_distinct_close_on_exec_descriptor_of_the_same_open_file()
    {
        using var dir = new ScratchDirectory("fd-dup");
        string path = dir.File("shared.txt");
        using (SafeHandle original = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            using SafeFdHandle copy = FileDescriptor.Duplicate(original);
            Assert.That(copy.IsInvalid, Is.False);
            Assert.That(copy.Fd, Is.Not.EqualTo((int)original.DangerousGetHandle()));
            Assert.That(FileDescriptor.IsCloseOnExec(copy), Is.True);

            // One open file description: the two share the offset, so the writes follow each other.
            FileDescriptor.WriteAll(copy, "abc"u8);
            FileDescriptor.WriteAll(original, "def"u8);
            Assert.That(FileDescriptor.GetStatus(copy).Size, Is.EqualTo(6));
        }
        Assert.That(File.ReadAllText(path), Is.EqualTo("abcdef"));
    }

    [Test]
    public void A_duplicate_is_closed_on_its_own()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using (reader)
        {
            SafeFdHandle copy = FileDescriptor.Duplicate(writer.Handle);
            using (copy)
            {
                using (writer)
                {
                }
                // The original is closed; the duplicate still writes into the same pipe.
                FileDescriptor.WriteAll(copy, "still here"u8);
                byte[] buffer = new byte[32];
                int n = reader.Read(buffer);
                Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("still here"));
                AssertWriterOpen(reader);
            }
            AssertNoWriterLeft(reader);
        }
    }

    [Test]
    public void Duplicate_refuses_null_and_a_closed_handle()
    {
        using EventFd closed = EventFd.Create();
        closed.Dispose();
        Assert.That(() => FileDescriptor.Duplicate(null!), Throws.ArgumentNullException);
        Assert.That(() => FileDescriptor.Duplicate(closed.Handle), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void Duplicate_of_an_invalid_descriptor_is_EBADF()
    {
        using var notOpen = new SafeFdHandle(int.MaxValue, ownsHandle: false);
        IpcException e = Assert.Throws<IpcException>(() => FileDescriptor.Duplicate(notOpen))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.EBADF));
    }

    // --- helpers ------------------------------------------------------------------------------------------

    /// <summary>A write end is still open: a non-blocking read of the empty pipe would block rather than end.</summary>
    private static void AssertWriterOpen(PipeEnd reader)
        => Assert.That(reader.TryRead(new byte[8]).Status, Is.EqualTo(IoStatus.WouldBlock), "a write end should still be open");

    /// <summary>
    /// Every write end of the pipe is closed: a (non-blocking) read says end of stream. The poll first waits
    /// out a child that another fixture forked and that has not reached exec (and dropped its close-on-exec
    /// copies) yet.
    /// </summary>
    private static void AssertNoWriterLeft(PipeEnd reader)
    {
        _ = FileDescriptor.Poll(reader.Handle, PollEvents.POLLIN, 10_000);
        Assert.That(reader.TryRead(new byte[8]).Status, Is.EqualTo(IoStatus.EndOfStream), "a write end is still open somewhere");
    }

    /// <summary>
    /// A non-blocking pipe and <c>n</c> duplicates of its write end (the original write end is closed at
    /// once): the reader sees end of stream exactly when every duplicate is closed. <see cref="Take"/> hands
    /// the duplicates over; disposing closes the reader and any duplicate not taken.
    /// </summary>
    private sealed class WriterCopies : IDisposable
    {
        private SafeFdHandle[] _handles;

        public WriterCopies(int n)
        {
            (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
            Reader = reader;
            using (writer)
            {
                _handles = new SafeFdHandle[n];
                for (int i = 0; i < n; i++)
                {
                    _handles[i] = FileDescriptor.Duplicate(writer.Handle);
                }
            }
        }

        public PipeEnd Reader { get; }

        /// <summary>The duplicates, still owned by this object.</summary>
        public SafeFdHandle[] Handles => _handles;

        public static WriterCopies Create(int n) => new(n);

        /// <summary>Hands the duplicates over: the caller closes them.</summary>
        public SafeFdHandle[] Take()
        {
            SafeFdHandle[] handles = _handles;
            _handles = [];
            return handles;
        }

        /// <summary>Closes the duplicates still owned here (copies sent elsewhere stay open).</summary>
        public void CloseOriginals()
        {
            foreach (SafeFdHandle h in _handles)
            {
                h.Dispose();
            }
        }

        public void Dispose()
        {
            CloseOriginals();
            Reader.Dispose();
        }
    }
}
