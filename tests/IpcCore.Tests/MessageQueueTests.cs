using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class MessageQueueTests
{
    private const string Tag = "mq";
    private static readonly TimeSpan s_peerTimeout = TimeSpan.FromSeconds(30);
    private readonly List<string> _names = [];

    [TearDown]
    public void UnlinkNames()
    {
        foreach (string name in _names)
        {
            MessageQueue.TryUnlink(name);
        }
        _names.Clear();
    }

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    [Test]
    public void Send_then_Receive_returns_the_bytes_and_the_priority()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("roundtrip"), 4, 128);
        byte[] message = [0, 1, 2, 0xFE, 0xFF, (byte)'x'];

        mq.Send(message, priority: 7);
        byte[] buffer = new byte[mq.MaxMessageSize];
        int length = mq.Receive(buffer, out uint priority);

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(message));
        Assert.That(priority, Is.EqualTo(7u));
    }

    [Test]
    public void Empty_message_round_trips()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("empty"), 2, 16);
        mq.Send(ReadOnlySpan<byte>.Empty);
        Assert.That(mq.TryReceive(new byte[16], out int length, out _), Is.True);
        Assert.That(length, Is.Zero);
    }

    [Test]
    public void Receive_takes_higher_priority_first_and_equal_priorities_in_order()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("order"), 10, 8);
        (byte Id, uint Priority)[] sent = [(1, 1), (2, 5), (3, 0), (4, 5), (5, 1), (6, 9), (7, 0)];
        foreach ((byte id, uint priority) in sent)
        {
            mq.Send([id], priority);
        }

        byte[] buffer = new byte[8];
        var received = new List<(byte, uint)>();
        while (mq.TryReceive(buffer, out int length, out uint priority))
        {
            Assert.That(length, Is.EqualTo(1));
            received.Add((buffer[0], priority));
        }

        Assert.That(received, Is.EqualTo(sent.OrderByDescending(m => m.Priority).ToList()));
    }

    [Test]
    public void Peer_receives_by_priority_and_echoes_in_that_order_with_bytes_intact()
    {
        string inName = NewName("echo-in");
        string outName = NewName("echo-out");
        using MessageQueue toPeer = MessageQueue.Create(inName, 10, 64, access: FileAccess.Write);
        using MessageQueue fromPeer = MessageQueue.Create(outName, 10, 64, access: FileAccess.Read);
        uint[] priorities = [1, 5, 0, 5, 1, 9, 0, 5, 2, 0];
        byte[][] payloads = priorities.Select((p, i) => Payload(i, p, 8 + (i * 5))).ToArray();

        using Peer peer = Peer.Start("mq-echo", inName, outName, priorities.Length.ToString(CultureInfo.InvariantCulture));
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));
        for (int i = 0; i < payloads.Length; i++)
        {
            toPeer.Send(payloads[i], priorities[i]);
        }
        peer.WriteLine("go");

        // OrderByDescending is stable: equal priorities keep the order they were sent in (FIFO).
        int[] expectedOrder = Enumerable.Range(0, priorities.Length).OrderByDescending(i => priorities[i]).ToArray();
        byte[] buffer = new byte[fromPeer.MaxMessageSize];
        foreach (int i in expectedOrder)
        {
            int length = fromPeer.Receive(buffer, out uint echoPriority, s_peerTimeout);
            Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(payloads[i]), $"message {i} (priority {priorities[i]})");
            Assert.That(echoPriority, Is.Zero);
        }
        string expectedPriorities = "priorities " + string.Join(' ', expectedOrder.Select(i => priorities[i]));
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo(expectedPriorities));
        Assert.That(peer.WaitForExit(s_peerTimeout), Is.Zero, peer.StandardErrorSoFar);
    }

    [Test]
    public void Peer_echoes_a_message_of_exactly_8192_bytes_intact()
    {
        string inName = NewName("big-in");
        string outName = NewName("big-out");
        using MessageQueue toPeer = MessageQueue.Create(inName, 1, 8192);
        using MessageQueue fromPeer = MessageQueue.Create(outName, 1, 8192);
        byte[] message = new byte[8192];
        new Random(8192).NextBytes(message);

        using Peer peer = Peer.Start("mq-echo", inName, outName, "1");
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));
        toPeer.Send(message, 3);
        peer.WriteLine("go");

        byte[] buffer = new byte[8192];
        int length = fromPeer.Receive(buffer, out _, s_peerTimeout);
        Assert.That(length, Is.EqualTo(8192));
        Assert.That(buffer, Is.EqualTo(message));
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("priorities 3"));
        Assert.That(peer.WaitForExit(s_peerTimeout), Is.Zero, peer.StandardErrorSoFar);
    }

    [Test]
    public void Message_longer_than_MaxMessageSize_fails_with_EMSGSIZE()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("msgsize"), 1, 8192);
        byte[] tooLong = new byte[8193];

        IpcException? send = Assert.Throws<IpcException>(() => mq.Send(tooLong));
        IpcException? trySend = Assert.Throws<IpcException>(() => mq.TrySend(tooLong));

        Assert.That(send!.Errno, Is.EqualTo(Errno.EMSGSIZE));
        Assert.That(send.Operation, Is.EqualTo("mq_timedsend"));
        Assert.That(send.ObjectName, Is.EqualTo(mq.Name));
        Assert.That(trySend!.Errno, Is.EqualTo(Errno.EMSGSIZE));
        Assert.That(mq.GetAttributes().CurrentMessages, Is.Zero);
    }

    [Test]
    public void Create_exclusive_on_an_existing_name_fails_with_EEXIST()
    {
        string name = NewName("exists");
        using MessageQueue first = MessageQueue.Create(name, 2, 16);

        IpcException? e = Assert.Throws<IpcException>(() => MessageQueue.Create(name, 2, 16));

        Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(e.Message, Is.EqualTo($"mq_open('{name}'): EEXIST (File exists)"));
    }

    [Test]
    public void Create_non_exclusive_opens_the_existing_queue_with_its_own_sizes()
    {
        string name = NewName("shared");
        using MessageQueue first = MessageQueue.Create(name, 3, 32);
        first.Send([42]);

        using MessageQueue second = MessageQueue.Create(name, 5, 64, exclusive: false);

        Assert.That(second.MaxMessages, Is.EqualTo(3));
        Assert.That(second.MaxMessageSize, Is.EqualTo(32));
        Assert.That(second.GetAttributes().CurrentMessages, Is.EqualTo(1));
    }

    [Test]
    public void Open_sees_the_queue_another_descriptor_created()
    {
        string name = NewName("open");
        using MessageQueue creator = MessageQueue.Create(name, 2, 16, access: FileAccess.Write);
        using MessageQueue reader = MessageQueue.Open(name, FileAccess.Read);
        creator.Send([1, 2, 3], 4);

        byte[] buffer = new byte[16];
        Assert.That(reader.TryReceive(buffer, out int length, out uint priority, TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(priority, Is.EqualTo(4u));
        Assert.That(reader.Access, Is.EqualTo(FileAccess.Read));
    }

    [Test]
    public void Open_Unlink_of_a_missing_queue_fail_with_ENOENT_and_TryUnlink_returns_false()
    {
        string name = NewName("missing");

        IpcException? open = Assert.Throws<IpcException>(() => MessageQueue.Open(name));
        IpcException? unlink = Assert.Throws<IpcException>(() => MessageQueue.Unlink(name));

        Assert.That(open!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(open.Message, Is.EqualTo($"mq_open('{name}'): ENOENT (No such file or directory)"));
        Assert.That(unlink!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(unlink.Operation, Is.EqualTo("mq_unlink"));
        Assert.That(MessageQueue.TryUnlink(name), Is.False);
    }

    [Test]
    public void Unlink_removes_the_name_but_open_descriptors_keep_working()
    {
        string name = NewName("unlink");
        using MessageQueue mq = MessageQueue.Create(name, 2, 16);

        MessageQueue.Unlink(name);

        Assert.That(MessageQueue.TryUnlink(name), Is.False);
        Assert.That(mq.TrySend([9]), Is.True);
        Assert.That(mq.TryReceive(new byte[16], out int length, out _), Is.True);
        Assert.That(length, Is.EqualTo(1));
    }

    [Test]
    public void TrySend_on_a_full_queue_returns_false()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("full"), 2, 16);
        Assert.That(mq.TrySend([1]), Is.True);
        Assert.That(mq.TrySend([2]), Is.True);

        Assert.That(mq.TrySend([3]), Is.False);
        Assert.That(mq.TrySend([3], 0, TimeSpan.FromMilliseconds(20)), Is.False);
        Assert.That(mq.GetAttributes().CurrentMessages, Is.EqualTo(2));
    }

    [Test]
    public void Send_on_a_full_queue_times_out_with_ETIMEDOUT_or_fails_with_EAGAIN_when_non_blocking()
    {
        string name = NewName("full-send");
        using MessageQueue mq = MessageQueue.Create(name, 1, 16);
        mq.Send([1]);

        var clock = Stopwatch.StartNew();
        IpcException? timedOut = Assert.Throws<IpcException>(() => mq.Send([2], 0, TimeSpan.FromMilliseconds(50)));
        clock.Stop();
        using MessageQueue nonBlocking = MessageQueue.Open(name, FileAccess.Write, nonBlocking: true);
        IpcException? wouldBlock = Assert.Throws<IpcException>(() => nonBlocking.Send([2]));

        Assert.That(timedOut!.Errno, Is.EqualTo(Errno.ETIMEDOUT));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)));
        Assert.That(wouldBlock!.Errno, Is.EqualTo(Errno.EAGAIN));
    }

    [Test]
    public void TryReceive_on_an_empty_queue_returns_false_and_waits_for_its_timeout()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("empty-recv"), 2, 16);
        byte[] buffer = new byte[16];

        Assert.That(mq.TryReceive(buffer, out int length, out _), Is.False);
        Assert.That(length, Is.Zero);
        var clock = Stopwatch.StartNew();
        Assert.That(mq.TryReceive(buffer, out _, out _, TimeSpan.FromMilliseconds(50)), Is.False);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)));
    }

    [Test]
    public void Receive_with_a_timeout_on_an_empty_queue_throws_ETIMEDOUT_and_non_blocking_throws_EAGAIN()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("recv-timeout"), 2, 16);
        byte[] buffer = new byte[16];

        IpcException? timedOut = Assert.Throws<IpcException>(() => mq.Receive(buffer, out _, TimeSpan.FromMilliseconds(20)));
        mq.NonBlocking = true;
        IpcException? wouldBlock = Assert.Throws<IpcException>(() => mq.Receive(buffer, out _));

        Assert.That(timedOut!.Errno, Is.EqualTo(Errno.ETIMEDOUT));
        Assert.That(timedOut.Operation, Is.EqualTo("mq_timedreceive"));
        Assert.That(wouldBlock!.Errno, Is.EqualTo(Errno.EAGAIN));
    }

    [Test]
    public void Deadline_overloads_wait_until_the_monotonic_deadline()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("deadline"), 1, 16);
        byte[] buffer = new byte[16];

        var clock = Stopwatch.StartNew();
        Assert.That(mq.TryReceive(buffer, out _, out _, MonotonicClock.NowNs + 50_000_000), Is.False);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)));
        Assert.That(mq.TryReceive(buffer, out _, out _, MonotonicClock.NowNs - 1), Is.False);

        mq.Send([5], 2, MonotonicClock.NowNs + 1_000_000_000);
        Assert.That(mq.TrySend([6], 0, MonotonicClock.NowNs + 10_000_000), Is.False);
        Assert.That(Assert.Throws<IpcException>(() => mq.Send([6], 0, MonotonicClock.NowNs))!.Errno, Is.EqualTo(Errno.ETIMEDOUT));

        Assert.That(mq.Receive(buffer, out uint priority, MonotonicClock.NowNs + 1_000_000_000), Is.EqualTo(1));
        Assert.That(priority, Is.EqualTo(2u));
        Assert.That(Assert.Throws<IpcException>(() => mq.Receive(buffer, out _, MonotonicClock.NowNs))!.Errno, Is.EqualTo(Errno.ETIMEDOUT));
    }

    [Test]
    public void Receive_into_a_buffer_smaller_than_MaxMessageSize_throws_ArgumentException()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("small-buffer"), 1, 64);
        mq.Send([1]);

        Assert.Throws<ArgumentException>(() => mq.Receive(new byte[63], out _));
        Assert.Throws<ArgumentException>(() => mq.TryReceive(new byte[63], out _, out _));
        Assert.That(mq.GetAttributes().CurrentMessages, Is.EqualTo(1));
    }

    [Test]
    public void Limits_are_the_ones_in_proc_sys_fs_mqueue()
    {
        MessageQueueLimits limits = MessageQueue.Limits;

        Assert.That(limits.MaxMessages, Is.EqualTo(ReadProcLimit("msg_max")));
        Assert.That(limits.MaxMessageSize, Is.EqualTo(ReadProcLimit("msgsize_max")));
        Assert.That(limits.DefaultMaxMessages, Is.EqualTo(ReadProcLimit("msg_default")));
        Assert.That(limits.DefaultMessageSize, Is.EqualTo(ReadProcLimit("msgsize_default")));
        Assert.That(limits.MaxQueues, Is.EqualTo(ReadProcLimit("queues_max")));
    }

    [Test]
    public void Create_beyond_the_limits_fails_with_EINVAL_and_names_the_limits()
    {
        string name = NewName("limits");
        MessageQueueLimits limits = MessageQueue.Limits;
        string limitText = $"(limit: msg_max {limits.MaxMessages}, msgsize_max {limits.MaxMessageSize})";

        // 16 MiB + 1 is beyond the kernel's hard message-size limit, so this fails even with CAP_SYS_RESOURCE.
        IpcException? hard = Assert.Throws<IpcException>(() => MessageQueue.Create(name, 1, (16 * 1024 * 1024) + 1));

        Assert.That(hard!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(hard.Message, Is.EqualTo($"mq_open('{name}'): EINVAL (Invalid argument) {limitText}"));
        if (!HasCapSysResource())
        {
            // Unprivileged, the soft limits from /proc apply (msg_max 10 and msgsize_max 8192 by default).
            IpcException? deep = Assert.Throws<IpcException>(() => MessageQueue.Create(name, checked((int)limits.MaxMessages + 1), 16));
            IpcException? wide = Assert.Throws<IpcException>(() => MessageQueue.Create(name, 1, checked((int)limits.MaxMessageSize + 1)));
            Assert.That(deep!.Message, Does.EndWith(limitText));
            Assert.That(wide!.Errno, Is.EqualTo(Errno.EINVAL));
        }
        Assert.That(MessageQueue.TryUnlink(name), Is.False, "a failed create leaves no queue");
    }

    [Test]
    public void GetAttributes_reports_sizes_count_and_non_blocking()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("attr"), 3, 48);
        mq.Send([1]);
        mq.Send([2]);

        MessageQueueAttributes attributes = mq.GetAttributes();
        Assert.That(attributes, Is.EqualTo(new MessageQueueAttributes(3, 48, 2, NonBlocking: false)));
        Assert.That(mq.MaxMessages, Is.EqualTo(3));
        Assert.That(mq.MaxMessageSize, Is.EqualTo(48));

        mq.NonBlocking = true;
        Assert.That(mq.GetAttributes().NonBlocking, Is.True);
        Assert.That(mq.NonBlocking, Is.True);
        mq.NonBlocking = false;
        Assert.That(mq.NonBlocking, Is.False);
    }

    [Test]
    public void A_descriptor_opened_read_only_cannot_send()
    {
        string name = NewName("readonly");
        using MessageQueue creator = MessageQueue.Create(name, 1, 16);
        using MessageQueue reader = MessageQueue.Open(name, FileAccess.Read);

        IpcException? e = Assert.Throws<IpcException>(() => reader.Send([1]));

        Assert.That(e!.Errno, Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void Create_applies_the_mode_exactly()
    {
        string name = NewName("mode");
        const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        using MessageQueue mq = MessageQueue.Create(name, 1, 16, Mode);
        string path = "/dev/mqueue" + name;
        Assume.That(File.Exists(path), "the mqueue filesystem is not mounted on /dev/mqueue");

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Mode));
    }

    [Test]
    public void A_disposed_queue_throws_ObjectDisposedException()
    {
        MessageQueue mq = MessageQueue.Create(NewName("disposed"), 1, 16);
        mq.Dispose();
        mq.Dispose();

        Assert.That(mq.Handle.IsClosed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => mq.Send([1]));
        Assert.Throws<ObjectDisposedException>(() => mq.TrySend([1]));
        Assert.Throws<ObjectDisposedException>(() => mq.Receive(new byte[16], out _));
        Assert.Throws<ObjectDisposedException>(() => mq.TryReceive(new byte[16], out _, out _));
        Assert.Throws<ObjectDisposedException>(() => mq.GetAttributes());
        Assert.Throws<ObjectDisposedException>(() => mq.NonBlocking = true);
    }

    [Test]
    public void The_handle_is_a_valid_descriptor()
    {
        using MessageQueue mq = MessageQueue.Create(NewName("handle"), 1, 16);

        Assert.That(mq.Handle.IsInvalid, Is.False);
        Assert.That(mq.Handle.Fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(File.Exists($"/proc/self/fd/{mq.Handle.Fd}"), Is.True);
    }

    [TestCase("")]
    [TestCase("/")]
    [TestCase("noslash")]
    [TestCase("/a/b")]
    public void Malformed_names_are_rejected_before_the_kernel(string name)
    {
        Assert.Throws<ArgumentException>(() => MessageQueue.Create(name, 1, 16));
        Assert.Throws<ArgumentException>(() => MessageQueue.Open(name));
        Assert.Throws<ArgumentException>(() => MessageQueue.Unlink(name));
    }

    [Test]
    public void Non_positive_sizes_are_rejected()
    {
        string name = NewName("sizes");
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.Create(name, 0, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.Create(name, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.Create(name, 1, 16, access: (FileAccess)0));
    }

    private string NewName(string what)
    {
        string name = TestNames.Posix($"{Tag}-{what}");
        _names.Add(name);
        return name;
    }

    private static byte[] Payload(int index, uint priority, int length)
    {
        byte[] payload = new byte[length];
        new Random(index).NextBytes(payload);
        payload[0] = (byte)index;
        payload[1] = (byte)priority;
        payload[2] = 0x00;
        payload[3] = 0xFF;
        return payload;
    }

    private static long ReadProcLimit(string file)
        => long.Parse(File.ReadAllText("/proc/sys/fs/mqueue/" + file).Trim(), CultureInfo.InvariantCulture);

    // CAP_SYS_RESOURCE (bit 24) lifts msg_max and msgsize_max up to the kernel's hard limits.
    private static bool HasCapSysResource()
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << 24)) != 0;
    }
}
