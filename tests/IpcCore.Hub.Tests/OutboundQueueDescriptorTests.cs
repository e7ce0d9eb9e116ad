using System.Buffers.Binary;
using System.Text;
using IpcCore.Native;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>
/// <see cref="OutboundQueue"/> with Data frames that carry descriptors: where <see cref="OutboundQueue.NextWrite"/>
/// cuts the stream, when the queue lets go of its reference to a <see cref="SharedDescriptors"/>, and the
/// descriptor limit. Whether descriptors are closed is seen through a pipe whose write end they duplicate.
/// </summary>
[TestFixture]
public sealed class OutboundQueueDescriptorTests
{
    private static byte[] Publish(string channel, int payloadLength, int descriptors, ulong requestId = 9, FrameFlags flags = FrameFlags.NoAck)
    {
        byte[] ch = Encoding.UTF8.GetBytes(channel);
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i + descriptors);
        }
        byte[] frame = new byte[FrameWriter.FrameLength(ch.Length, payloadLength)];
        FrameWriter.Write(frame, FrameType.Publish, FrameHeader.WithDescriptors(flags, descriptors), requestId, ch, payload);
        return frame;
    }

    /// <summary>The Data frame the queue makes of <paramref name="publish"/>.</summary>
    private static byte[] AsData(byte[] publish, ulong sequence)
    {
        byte[] copy = (byte[])publish.Clone();
        copy[5] = (byte)FrameType.Data;
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(6));
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(6), (ushort)(flags & (ushort)FrameFlags.DescriptorCountMask));
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(16), sequence);
        return copy;
    }

    // --- NextWrite ------------------------------------------------------------------------------------

    [Test]
    public void NextWrite_sends_plain_bytes_first_then_each_in_band_frame_with_its_descriptors()
    {
        using var fds1 = new PipeDescriptors(2);
        using var fds2 = new PipeDescriptors(1);
        byte[] plain = Publish("c", 76, 0);      // 101 bytes
        byte[] withTwo = Publish("c", 50, 2);    // 75 bytes
        byte[] withOne = Publish("c", 30, 1);    // 55 bytes
        using var queue = new OutboundQueue(100, 1 << 20);

        Assert.That(queue.TryEnqueueData(plain, 1), Is.True);
        Assert.That(queue.TryEnqueueData(withTwo, 2, fds1.Set), Is.True);
        Assert.That(queue.TryEnqueueData(plain, 3), Is.True);
        Assert.That(queue.TryEnqueueData(withOne, 4, fds2.Set), Is.True);
        Assert.That(queue.TryEnqueueData(plain, 5), Is.True);
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(3));
        Assert.That(queue.Messages, Is.EqualTo(5));

        var stream = new List<byte>();

        // 1: the plain frame before the first in-band one, alone.
        byte[] write = queue.NextWrite(out SharedDescriptors? attach).ToArray();
        Assert.That(attach, Is.Null);
        Assert.That(write, Is.EqualTo(AsData(plain, 1)));
        stream.AddRange(write);
        queue.Advance(write.Length);
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(3), "no descriptor frame has begun");

        // 2: the first in-band frame and the plain one after it, up to the next in-band frame.
        write = queue.NextWrite(out attach).ToArray();
        Assert.That(attach, Is.SameAs(fds1.Set));
        Assert.That(write, Is.EqualTo(AsData(withTwo, 2).Concat(AsData(plain, 3))));
        stream.AddRange(write);
        queue.Advance(write.Length);
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(1));

        // 3: the second in-band frame and the rest.
        write = queue.NextWrite(out attach).ToArray();
        Assert.That(attach, Is.SameAs(fds2.Set));
        Assert.That(write, Is.EqualTo(AsData(withOne, 4).Concat(AsData(plain, 5))));
        stream.AddRange(write);
        queue.Advance(write.Length);

        Assert.That(queue.HasPending, Is.False);
        Assert.That(queue.Messages, Is.Zero);
        Assert.That(queue.QueuedDescriptors, Is.Zero);
        Assert.That(queue.NextWrite(out attach).IsEmpty, Is.True);
        Assert.That(attach, Is.Null);
        Assert.That(stream, Is.EqualTo(AsData(plain, 1).Concat(AsData(withTwo, 2)).Concat(AsData(plain, 3)).Concat(AsData(withOne, 4)).Concat(AsData(plain, 5))));
    }

    [Test]
    public void Two_in_band_frames_in_a_row_leave_in_two_writes()
    {
        using var fds1 = new PipeDescriptors(1);
        using var fds2 = new PipeDescriptors(1);
        byte[] frame = Publish("c", 10, 1);
        using var queue = new OutboundQueue(100, 1 << 20);
        queue.TryEnqueueData(frame, 1, fds1.Set);
        queue.TryEnqueueData(frame, 2, fds2.Set);

        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(frame.Length));
        Assert.That(attach, Is.SameAs(fds1.Set));
        queue.Advance(frame.Length);
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(frame.Length));
        Assert.That(attach, Is.SameAs(fds2.Set));
    }

    [Test]
    public void The_data_frame_keeps_the_descriptor_count_and_drops_NoAck()
    {
        using var fds = new PipeDescriptors(3);
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(Publish("files.in", 10, 3, requestId: 77), 5, fds.Set);

        byte[] data = queue.NextWrite(out _).ToArray();
        Assert.That(FrameReader.TryParse(data, ProtocolLimits.Default, out Frame frame, out _, out _, out string? reason),
            Is.EqualTo(FrameParseResult.Complete), reason);
        (FrameType Type, FrameFlags Flags, int Count, ulong Sequence) seen = (frame.Type, frame.Flags, frame.DescriptorCount, frame.Sequence);
        Assert.That(seen, Is.EqualTo((FrameType.Data, FrameHeader.WithDescriptors(FrameFlags.None, 3), 3, 5ul)));
    }

    [Test]
    public void After_a_partial_write_of_an_in_band_frame_the_rest_goes_without_descriptors()
    {
        using var fds = new PipeDescriptors(1);
        byte[] frame = Publish("c", 100, 1);
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(frame, 1, fds.Set);

        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(frame.Length));
        Assert.That(attach, Is.SameAs(fds.Set));
        queue.Advance(10);

        Assert.That(queue.QueuedDescriptors, Is.Zero, "the batch left with the first byte");
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(frame.Length - 10));
        Assert.That(attach, Is.Null);
        Assert.That(queue.Messages, Is.EqualTo(1));
    }

    [Test]
    public void A_partial_write_of_the_plain_bytes_before_an_in_band_frame_keeps_the_cut()
    {
        using var fds = new PipeDescriptors(1);
        byte[] plain = Publish("c", 76, 0); // 101 bytes
        byte[] with = Publish("c", 10, 1);
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(plain, 1);
        queue.TryEnqueueData(with, 2, fds.Set);

        queue.Advance(40);
        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(61));
        Assert.That(attach, Is.Null);
        queue.Advance(61);
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(with.Length));
        Assert.That(attach, Is.SameAs(fds.Set));
    }

    // --- references ------------------------------------------------------------------------------------

    [Test]
    public void The_queue_lets_go_of_its_reference_once_the_frames_first_byte_is_written()
    {
        using var fds = new PipeDescriptors(2);
        byte[] plain = Publish("c", 20, 0);
        byte[] with = Publish("c", 20, 2);
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(plain, 1);
        Assert.That(queue.TryEnqueueData(with, 2, fds.Set), Is.True);
        fds.Set.Release(); // the router's own reference: now only the queue holds them
        fds.AssertOpen("the queue holds a reference");

        queue.Advance(plain.Length);
        fds.AssertOpen("the descriptor frame has not begun");

        queue.Advance(1);
        fds.AssertClosed("the batch went with the first byte");
        Assert.That(queue.QueuedDescriptors, Is.Zero);
        Assert.That(queue.Messages, Is.EqualTo(1), "the frame itself is still partly queued");
    }

    [Test]
    public void A_reference_shared_by_two_queues_closes_after_both_sent_the_frame()
    {
        using var fds = new PipeDescriptors(1);
        byte[] frame = Publish("c", 20, 1);
        using var first = new OutboundQueue(10, 1 << 20);
        using var second = new OutboundQueue(10, 1 << 20);
        first.TryEnqueueData(frame, 1, fds.Set);
        second.TryEnqueueData(frame, 1, fds.Set);
        fds.Set.Release();

        first.Advance(first.Bytes);
        fds.AssertOpen("the second queue still holds them");
        second.Advance(1);
        fds.AssertClosed("the last holder let go");
    }

    [Test]
    public void Descriptors_sent_ahead_are_let_go_at_once_but_count_until_the_frame_begins()
    {
        using var fds = new PipeDescriptors(2);
        byte[] with = Publish("c", 20, 2);
        byte[] plain = Publish("c", 20, 0);
        using var queue = new OutboundQueue(10, 1 << 20);
        Assert.That(queue.TryEnqueueData(with, 1, fds.Set), Is.True);
        queue.TryEnqueueData(plain, 2);
        fds.Set.Release();
        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(with.Length + plain.Length));
        Assert.That(attach, Is.SameAs(fds.Set));

        queue.DescriptorsSentAhead(); // the pipe transport sent them on the control socket

        fds.AssertClosed("the queue let go of them");
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(2), "they count until the frame's first byte is written");
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(with.Length + plain.Length));
        Assert.That(attach, Is.Null, "the batch is gone: the bytes go plain");
        queue.Advance(1);
        Assert.That(queue.QueuedDescriptors, Is.Zero);
    }

    [Test]
    public void A_frame_whose_batch_went_ahead_no_longer_cuts_the_stream()
    {
        using var first = new PipeDescriptors(1);
        using var second = new PipeDescriptors(1);
        byte[] frame = Publish("c", 20, 1);
        byte[] plain = Publish("c", 20, 0);
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(plain, 1);
        queue.TryEnqueueData(frame, 2, first.Set);
        queue.TryEnqueueData(plain, 3);
        queue.TryEnqueueData(frame, 4, second.Set);
        queue.TryEnqueueData(plain, 5);

        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(plain.Length));
        Assert.That(attach, Is.Null);
        queue.Advance(plain.Length);
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(frame.Length + plain.Length));
        Assert.That(attach, Is.SameAs(first.Set));
        queue.DescriptorsSentAhead();
        first.AssertOpen("the creator still holds a reference");
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(frame.Length + plain.Length), "still cut before the second batch");
        Assert.That(attach, Is.Null);

        // The second batch goes ahead too, before any byte of the first frame: no cut is left.
        queue.Advance(frame.Length + plain.Length);
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(frame.Length + plain.Length));
        Assert.That(attach, Is.SameAs(second.Set));
        queue.DescriptorsSentAhead();
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(frame.Length + plain.Length));
        Assert.That(attach, Is.Null);
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(1));

        first.Set.Release();
        second.Set.Release();
        first.AssertClosed("sent ahead and released by its creator");
        second.AssertClosed("sent ahead and released by its creator");
    }

    [Test]
    public void DescriptorsSentAhead_with_no_batch_waiting_is_an_error()
    {
        using var fds = new PipeDescriptors(1);
        using var queue = new OutboundQueue(10, 1 << 20);
        Assert.That(queue.DescriptorsSentAhead, Throws.InvalidOperationException);
        queue.TryEnqueueData(Publish("c", 20, 0), 1);
        Assert.That(queue.DescriptorsSentAhead, Throws.InvalidOperationException, "a plain frame has no batch");
        queue.TryEnqueueData(Publish("c", 20, 1), 2, fds.Set);
        queue.Advance(queue.Bytes);
        Assert.That(queue.DescriptorsSentAhead, Throws.InvalidOperationException, "the batch went with the frame's first byte");
    }

    // --- the descriptor limit ----------------------------------------------------------------------------

    [Test]
    public void CanAccept_respects_the_descriptor_limit()
    {
        using var three = new PipeDescriptors(3);
        using var two = new PipeDescriptors(2);
        using var one = new PipeDescriptors(1);
        byte[] withThree = Publish("c", 10, 3);
        byte[] withTwo = Publish("c", 10, 2);
        using var queue = new OutboundQueue(100, 1 << 20, maxDescriptors: 4);
        Assert.That(queue.MaxDescriptors, Is.EqualTo(4));

        Assert.That(queue.CanAccept(withThree.Length, 4), Is.True);
        Assert.That(queue.CanAccept(withThree.Length, 5), Is.False);
        Assert.That(queue.TryEnqueueData(withThree, 1, three.Set), Is.True);
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(3));

        Assert.That(queue.CanAccept(withTwo.Length, 1), Is.True);
        Assert.That(queue.CanAccept(withTwo.Length, 2), Is.False);
        Assert.That(queue.CanAccept(withTwo.Length), Is.True, "frames without descriptors are not bound by it");
        Assert.That(queue.TryEnqueueData(Publish("c", 10, 0), 2), Is.True);

        Assert.That(queue.TryEnqueueData(withTwo, 3, two.Set), Is.False);
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(3));
        Assert.That(queue.Messages, Is.EqualTo(2), "the refused frame was not queued");
        two.Set.Release();
        two.AssertClosed("a refused frame takes no reference");

        // Once the first byte of the 3-descriptor frame is out, there is room again.
        queue.Advance(1);
        Assert.That(queue.QueuedDescriptors, Is.Zero);
        Assert.That(queue.CanAccept(withThree.Length, 4), Is.True);
        Assert.That(queue.TryEnqueueData(Publish("c", 10, 1), 4, one.Set), Is.True);
    }

    [Test]
    public void The_frame_and_byte_limits_apply_to_descriptor_frames_too()
    {
        using var fds = new PipeDescriptors(1);
        byte[] frame = Publish("c", 100, 1); // 125 bytes
        using var byMessages = new OutboundQueue(maxMessages: 1, maxBytes: 1 << 20);
        Assert.That(byMessages.TryEnqueueData(frame, 1, fds.Set), Is.True);
        Assert.That(byMessages.TryEnqueueData(frame, 2, fds.Set), Is.False);

        using var byBytes = new OutboundQueue(maxMessages: 10, maxBytes: 124);
        Assert.That(byBytes.TryEnqueueData(frame, 1, fds.Set), Is.False);
        Assert.That(byBytes.QueuedDescriptors, Is.Zero);

        byMessages.Advance(1);
        fds.Set.Release();
        fds.AssertClosed("only the one accepted frame held a reference, and it is sent");
    }

    [Test]
    public void The_descriptor_limit_must_be_positive()
        => Assert.That(() => new OutboundQueue(10, 1 << 20, maxDescriptors: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void TryEnqueueData_refuses_null_descriptors()
    {
        using var queue = new OutboundQueue(10, 1 << 20);
        Assert.That(() => queue.TryEnqueueData(Publish("c", 1, 1), 1, null!), Throws.ArgumentNullException);
    }

    // --- DiscardUnsent and Dispose ----------------------------------------------------------------------

    [Test]
    public void DiscardUnsent_releases_the_unsent_frames_and_not_the_partly_written_one_again()
    {
        using var front = new PipeDescriptors(1);
        using var unsent = new PipeDescriptors(2);
        using var alsoElsewhere = new PipeDescriptors(1);
        byte[] one = Publish("c", 40, 1);
        byte[] two = Publish("c", 40, 2);
        using var queue = new OutboundQueue(10, 1 << 20);
        using var other = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(one, 1, front.Set);
        other.TryEnqueueData(one, 1, front.Set);
        queue.TryEnqueueData(two, 2, unsent.Set);
        queue.TryEnqueueData(one, 3, alsoElsewhere.Set);
        other.TryEnqueueData(one, 3, alsoElsewhere.Set);
        front.Set.Release();
        unsent.Set.Release();
        alsoElsewhere.Set.Release();

        queue.Advance(5); // the front frame is partly written: its batch is gone with the first byte
        queue.DiscardUnsent();

        Assert.That(queue.Messages, Is.EqualTo(1));
        Assert.That(queue.Bytes, Is.EqualTo(one.Length - 5), "the rest of the front frame");
        Assert.That(queue.QueuedDescriptors, Is.Zero);
        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(one.Length - 5));
        Assert.That(attach, Is.Null);
        unsent.AssertClosed("only the discarded frame held them");
        front.AssertOpen("the other queue still holds them: the partly written frame must not be released twice");
        alsoElsewhere.AssertOpen("the other queue still holds them");

        other.Advance(other.Bytes);
        front.AssertClosed("the other queue sent it");
        alsoElsewhere.AssertClosed("the other queue sent it");
    }

    [Test]
    public void DiscardUnsent_with_nothing_partly_written_releases_every_frame_once()
    {
        using var ahead = new PipeDescriptors(1);
        using var held = new PipeDescriptors(2);
        byte[] plain = Publish("c", 40, 0);
        byte[] one = Publish("c", 40, 1);
        byte[] two = Publish("c", 40, 2);
        using var queue = new OutboundQueue(10, 1 << 20);
        using var other = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(plain, 1);
        queue.TryEnqueueData(one, 2, ahead.Set);
        other.TryEnqueueData(one, 2, ahead.Set);
        queue.TryEnqueueData(two, 3, held.Set);
        ahead.Set.Release();
        held.Set.Release();

        queue.Advance(plain.Length); // exactly one frame: nothing partly written
        queue.NextWrite(out SharedDescriptors? attach);
        Assert.That(attach, Is.SameAs(ahead.Set));
        queue.DescriptorsSentAhead(); // ... but no byte of its frame written
        Assert.That(queue.QueuedDescriptors, Is.EqualTo(3));
        queue.DiscardUnsent();

        Assert.That(queue.HasPending, Is.False);
        Assert.That(queue.Messages, Is.Zero);
        Assert.That(queue.QueuedDescriptors, Is.Zero, "a frame whose batch went ahead stops counting too");
        held.AssertClosed("the discarded frame's reference is released");
        ahead.AssertOpen("its batch went ahead, so the queue held no reference to release again; the other queue holds one");
        Assert.That(queue.NextWrite(out attach).IsEmpty, Is.True);
        Assert.That(attach, Is.Null);

        other.Advance(other.Bytes);
        ahead.AssertClosed("the other queue sent it");
    }

    [Test]
    public void DiscardUnsent_keeps_a_partly_written_plain_frame_and_releases_the_descriptor_frames_after_it()
    {
        using var fds = new PipeDescriptors(2);
        byte[] plain = Publish("c", 40, 0);
        byte[] with = Publish("c", 40, 2);
        using var queue = new OutboundQueue(10, 1 << 20);
        queue.TryEnqueueData(plain, 1);
        queue.TryEnqueueData(with, 2, fds.Set);
        fds.Set.Release();

        queue.Advance(plain.Length - 1);
        queue.DiscardUnsent();

        Assert.That((queue.Messages, queue.Bytes, queue.QueuedDescriptors), Is.EqualTo((1, 1, 0)));
        fds.AssertClosed("the descriptor frame never began");

        // The queue goes on working: a new descriptor frame after the kept byte is cut as usual.
        using var next = new PipeDescriptors(1);
        queue.TryEnqueueData(Publish("c", 40, 1), 3, next.Set);
        Assert.That(queue.NextWrite(out SharedDescriptors? attach).Length, Is.EqualTo(1));
        Assert.That(attach, Is.Null);
        queue.Advance(1);
        Assert.That(queue.NextWrite(out attach).Length, Is.EqualTo(with.Length));
        Assert.That(attach, Is.SameAs(next.Set));
    }

    [Test]
    public void Dispose_releases_every_reference_the_queue_holds_and_no_other()
    {
        using var ahead = new PipeDescriptors(1);
        using var mine = new PipeDescriptors(2);
        using var shared = new PipeDescriptors(1);
        byte[] frame = Publish("c", 40, 1);
        using var other = new OutboundQueue(10, 1 << 20);
        var queue = new OutboundQueue(10, 1 << 20);
        try
        {
            queue.TryEnqueueData(frame, 1, ahead.Set);
            queue.TryEnqueueData(Publish("c", 40, 2), 2, mine.Set);
            queue.TryEnqueueData(frame, 3, shared.Set);
            other.TryEnqueueData(frame, 1, ahead.Set);
            other.TryEnqueueData(frame, 3, shared.Set);
            ahead.Set.Release();
            mine.Set.Release();
            shared.Set.Release();
            queue.NextWrite(out SharedDescriptors? attach);
            Assert.That(attach, Is.SameAs(ahead.Set));
            queue.DescriptorsSentAhead();
            mine.AssertOpen("queued");
        }
        finally
        {
            queue.Dispose();
        }

        mine.AssertClosed("the disposed queue released it");
        shared.AssertOpen("the other queue still holds it");
        ahead.AssertOpen("sent ahead: the disposed queue held no reference to it any more; the other queue does");
        Assert.That(queue.QueuedDescriptors, Is.Zero);
        other.Dispose();
        shared.AssertClosed("both queues are gone");
        ahead.AssertClosed("both queues are gone");
    }

    // --- many frames, partial writes ------------------------------------------------------------------------

    [Test]
    public void RandomTraffic_every_batch_leaves_once_with_its_frames_first_byte_or_ahead_and_the_stream_is_intact()
    {
        var random = new Random(7);
        using var pipe = new PipeDescriptors(0);
        using var queue = new OutboundQueue(100000, 64L << 20);
        var expected = new List<byte>();
        var written = new List<byte>();
        // Stream offset of each frame with descriptors not yet begun -> its set while the queue holds it, and its count.
        var pending = new Dictionary<long, (SharedDescriptors? Held, int Count)>();
        var delivered = new HashSet<SharedDescriptors>();
        var all = new List<SharedDescriptors>();
        long offset = 0;
        ulong seq = 0;
        int expectedQueued = 0;

        for (int round = 0; round < 3000; round++)
        {
            int n = random.Next(0, 4);
            for (int i = 0; i < n; i++)
            {
                int count = random.Next(2) == 0 ? 0 : random.Next(1, 4);
                FrameFlags flags = random.Next(2) == 0 ? FrameFlags.NoAck : FrameFlags.None;
                byte[] publish = Publish("r", random.Next(0, random.Next(4) == 0 ? 3000 : 200), count, flags: flags);
                seq++;
                if (count == 0)
                {
                    Assert.That(queue.TryEnqueueData(publish, seq), Is.True);
                }
                else
                {
                    SharedDescriptors set = pipe.NewSet(count);
                    all.Add(set);
                    Assert.That(queue.TryEnqueueData(publish, seq, set), Is.True);
                    set.Release(); // the router is done with it
                    pending.Add(offset, (set, count));
                    expectedQueued += count;
                }
                byte[] data = AsData(publish, seq);
                expected.AddRange(data);
                offset += data.Length;
            }
            Assert.That(queue.QueuedDescriptors, Is.EqualTo(expectedQueued));

            bool drain = queue.Messages > 50 || round == 2999;
            int steps = drain ? int.MaxValue : random.Next(0, 4);
            for (int step = 0; step < steps && queue.HasPending; step++)
            {
                long at = written.Count;
                ReadOnlySpan<byte> next = queue.NextWrite(out SharedDescriptors? attach);
                Assert.That(next.IsEmpty, Is.False);
                SharedDescriptors? owner = pending.TryGetValue(at, out (SharedDescriptors? Held, int Count) here) ? here.Held : null;
                Assert.That(attach, Is.SameAs(owner), $"offset {at}: the batch attached must be the one of the frame starting here, if any");
                if (attach is not null)
                {
                    Assert.That(attach.IsClosed, Is.False, "the queue holds the batch until it is sent");
                    if (random.Next(3) == 0)
                    {
                        // The pipe transport: the batch goes ahead on the control socket, the bytes then go plain.
                        queue.DescriptorsSentAhead();
                        Assert.That(delivered.Add(attach), Is.True, "a batch is sent once");
                        Assert.That(attach.IsClosed, Is.True, "sent ahead: the queue let go of it");
                        pending[at] = (null, here.Count);
                        Assert.That(queue.QueuedDescriptors, Is.EqualTo(expectedQueued), "it counts until its frame begins");
                        next = queue.NextWrite(out attach);
                        Assert.That(attach, Is.Null);
                    }
                }
                for (long o = at + 1; o < at + next.Length; o++)
                {
                    Assert.That(pending.TryGetValue(o, out (SharedDescriptors? Held, int Count) inside) && inside.Held is not null, Is.False,
                        $"the write from {at} runs over the frame at {o} whose batch is still held");
                }
                int take = drain || random.Next(3) == 0 ? next.Length : random.Next(0, next.Length + 1);
                written.AddRange(next[..take].ToArray());
                if (take > 0 && attach is not null)
                {
                    Assert.That(delivered.Add(attach), Is.True, "a batch is sent once");
                }
                queue.Advance(take);
                foreach (long start in pending.Keys.Where(k => k >= at && k < at + take).ToList())
                {
                    (SharedDescriptors? set, int count) = pending[start];
                    expectedQueued -= count;
                    Assert.That(set?.IsClosed ?? true, Is.True, "sent: the queue let go of it");
                    pending.Remove(start);
                }
                Assert.That(queue.QueuedDescriptors, Is.EqualTo(expectedQueued));
            }
        }

        Assert.That(queue.HasPending, Is.False);
        Assert.That(written, Is.EqualTo(expected));
        Assert.That(pending, Is.Empty, "every frame with descriptors was begun");
        Assert.That(delivered, Has.Count.EqualTo(all.Count), "every batch was sent, with its frame or ahead");
        Assert.That(queue.QueuedDescriptors, Is.Zero);
        Assert.That(all.All(s => s.IsClosed), Is.True, "every batch was released");
        pipe.AssertNoWriterLeft();
    }

    /// <summary>
    /// Descriptors for a <see cref="SharedDescriptors"/>: duplicates of one pipe's write end (the original is
    /// closed at once), so the pipe's reader sees end of stream exactly when all are closed.
    /// </summary>
    private sealed class PipeDescriptors : IDisposable
    {
        private readonly PipeEnd _reader;
        private readonly PipeEnd _writer;
        private readonly SafeFdHandle[] _handles;

        public PipeDescriptors(int n)
        {
            (_reader, _writer) = Pipe.Create(nonBlocking: true);
            _handles = NewHandles(n);
            Set = new SharedDescriptors(_handles);
            if (n > 0)
            {
                _writer.Dispose();
            }
        }

        /// <summary>The set over the <c>n</c> descriptors, with the creator's one reference.</summary>
        public SharedDescriptors Set { get; }

        /// <summary>Another set over new duplicates of the same write end (for many sets on one pipe).</summary>
        public SharedDescriptors NewSet(int n) => new(NewHandles(n));

        public void AssertOpen(string why)
        {
            Assert.That(Set.IsClosed, Is.False, why);
            Assert.That(_handles.Select(h => h.IsClosed), Is.All.False, why);
            Assert.That(_reader.TryRead(new byte[8]).Status, Is.EqualTo(IoStatus.WouldBlock), why);
        }

        public void AssertClosed(string why)
        {
            Assert.That(Set.IsClosed, Is.True, why);
            Assert.That(_handles.Select(h => h.IsClosed), Is.All.True, why);
            AssertNoWriterLeft();
        }

        /// <summary>
        /// Every write end is closed: a non-blocking read says end of stream. The poll first waits out a
        /// child that another fixture forked and that has not reached exec (and dropped its close-on-exec copies) yet.
        /// </summary>
        public void AssertNoWriterLeft()
        {
            _writer.Dispose();
            _ = FileDescriptor.Poll(_reader.Handle, PollEvents.POLLIN, 10_000);
            Assert.That(_reader.TryRead(new byte[8]).Status, Is.EqualTo(IoStatus.EndOfStream), "a write end is still open somewhere");
        }

        public void Dispose()
        {
            foreach (SafeFdHandle h in _handles)
            {
                h.Dispose();
            }
            _writer.Dispose();
            _reader.Dispose();
        }

        private SafeFdHandle[] NewHandles(int n)
        {
            var handles = new SafeFdHandle[n];
            for (int i = 0; i < n; i++)
            {
                handles[i] = FileDescriptor.Duplicate(_writer.Handle);
            }
            return handles;
        }
    }
}
