using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// The message-queue transport with the hub's DEFAULT queue sizes (10 messages of 8192 bytes, the unprivileged
/// limits): frames larger than a queue message are split and arrive whole, 10,000 messages pass the depth-10
/// queues without loss, the two queues of a client exist until its first frame and nothing is left after it,
/// and a higher-priority message overtakes lower-priority ones waiting in the subscriber's queue.
/// </summary>
/// <remarks>
/// A default-size mqueue client takes about 166 KB of the user's RLIMIT_MSGQUEUE (819200 bytes, shared by every
/// test of every assembly running now): these tests have at most two such clients at once, and the fixture does
/// not run in parallel with the others (the other fixtures' hubs use --mq-message-size 1024, about 22 KB).
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed partial class MessageQueueTransportTests : HubTest
{
    private const int DefaultDepth = 10;
    private const int DefaultMessageSize = 8192;

    private protected override string Tag => "mq";

    [SetUp]
    public void UseTheDefaultQueueSizes() => Env.MqMessageSize = null;

    [GeneratedRegex(@"client (\d+) '([^']+)' connected")]
    private static partial Regex ConnectedLine();

    /// <summary>
    /// A hand-driven client (Hello over the socket, then the queues by hand): Welcome names two queues of 10 × 8192,
    /// mode 0600, which exist until the client's first frame comes through c2h; a Ping through c2h is answered with a
    /// Pong through h2c; when the client goes, nothing of it is left. A client that leaves before its first frame
    /// leaves nothing either.
    /// </summary>
    [Test]
    public void Queues_ExistDuringTheHandshake_CarryFrames_AndAreGoneAfterTheClientLeaves()
    {
        HubProcess hub = Env.StartHub();
        hub.Child.WaitForStderrLine(l => l.Contains($"message queues: {DefaultDepth} × {DefaultMessageSize} bytes per queue", StringComparison.Ordinal),
            Timeouts.Start, "the hub logs its queue sizes");

        using (RawConnection raw = RawConnection.Connect(Env.SocketPath))
        {
            raw.Handshake("it-mq-raw", TransportKind.MessageQueue);
            Assert.That(raw.Welcome.Transport, Is.EqualTo(TransportKind.MessageQueue));
            (int depth, int size, string c2h, string h2c) = ParseWelcome(raw.WelcomeExtension);
            string prefix = $"/ipchub.{hub.Pid}.{raw.Welcome.ClientId}.";
            Assert.Multiple(() =>
            {
                Assert.That(depth, Is.EqualTo(DefaultDepth), "Welcome's queue depth");
                Assert.That(size, Is.EqualTo(DefaultMessageSize), "Welcome's message size");
                Assert.That(c2h, Is.EqualTo(prefix + "c2h"));
                Assert.That(h2c, Is.EqualTo(prefix + "h2c"));
            });
            foreach (string name in (string[])[c2h, h2c])
            {
                string file = "/dev/mqueue" + name;
                Assert.That(File.Exists(file), Is.True, $"{file} exists while the client connects");
                Assert.That(File.GetUnixFileMode(file) & (UnixFileMode)0x1FF, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file}'s mode");
            }

            using (MessageQueue toHub = MessageQueue.Open(c2h, FileAccess.Write))
            using (MessageQueue fromHub = MessageQueue.Open(h2c, FileAccess.Read))
            {
                Assert.That((toHub.MaxMessages, toHub.MaxMessageSize), Is.EqualTo((DefaultDepth, DefaultMessageSize)), "c2h as created");
                Assert.That((fromHub.MaxMessages, fromHub.MaxMessageSize), Is.EqualTo((DefaultDepth, DefaultMessageSize)), "h2c as created");
                byte[] ping = new byte[FrameWriter.FrameLength(0, 0)];
                FrameWriter.Write(ping, FrameType.Ping, FrameFlags.None, 42, default, default);
                toHub.Send(ping);
                byte[] buffer = new byte[DefaultMessageSize];
                int length = fromHub.Receive(buffer, out uint priority, Timeouts.Message);
                Assert.That(FrameReader.TryParse(buffer.AsSpan(0, length), new ProtocolLimits(ProtocolLimits.DefaultMaxMessageSize), out Frame pong,
                    out int needed, out _, out _), Is.EqualTo(FrameParseResult.Complete), $"a whole frame in the message ({length} bytes)");
                Assert.That((pong.Type, pong.Sequence, needed, priority), Is.EqualTo((FrameType.Pong, 42UL, length, 0u)), "the Pong, alone in one message");
            }
            // The first frame showed the client opened both queues: their names go.
            WaitUntil(() => NamesOf(hub).Count == 0, "the hub removes the queue names after the client's first frame", hub);
            Assert.That(MqDescriptors(hub), Has.Count.EqualTo(2), "the hub still holds both queues");
        }
        WaitUntil(() => MqDescriptors(hub).Count == 0, "the hub closes the queues of the client that left", hub);

        // A client that leaves in the middle of its handshake (before any frame through the queues).
        using (RawConnection raw = RawConnection.Connect(Env.SocketPath))
        {
            raw.Handshake("it-mq-leaves", TransportKind.MessageQueue);
            Assert.That(NamesOf(hub), Has.Count.EqualTo(2), "the queues exist until the client's first frame");
        }
        WaitUntil(() => NamesOf(hub).Count == 0 && MqDescriptors(hub).Count == 0, "the hub removes the queues of a client gone mid-handshake", hub);

        // A real client: while connected its queues have no names any more; after it leaves, nothing.
        Env.SubscriberBackend = "mqueue";
        ChildProcess sub = Env.StartSubscriber("mq.objects", "--count", "1");
        Assert.That(NamesOf(hub), Is.Empty, "a connected client's queues have no names");
        Assert.That(MqDescriptors(hub), Has.Count.EqualTo(2), "the hub holds the subscriber's two queues");
        Env.PublisherBackend = "socket";
        Env.PublishOk("mq.objects", "bye", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 1"), Is.Zero, sub.Describe());
        WaitUntil(() => NamesOf(hub).Count == 0 && MqDescriptors(hub).Count == 0, "nothing of the subscriber's queues is left", hub);
    }

    /// <summary>Frames of 8192 and 8193 bytes, and messages of 8193, 20000, 100000 bytes and 1 MiB arrive whole, both ways.</summary>
    [Test]
    public void MessagesLargerThanAQueueMessage_ArriveWhole()
    {
        const string channel = "mq.big"; // frame = 24-byte header + 6 + payload
        int[] sizes = [DefaultMessageSize - 24 - channel.Length, DefaultMessageSize - 24 - channel.Length + 1, 8193, 20_000, 100_000, 1024 * 1024];
        HubProcess hub = Env.StartHub();
        Env.SubscriberBackend = Env.PublisherBackend = "mqueue";
        ChildProcess sub = Env.StartSubscriber(channel, "--format", "json", "--count", sizes.Length.ToString(CultureInfo.InvariantCulture));
        var random = new Random(8193);
        var sent = new List<byte[]>();
        foreach (int size in sizes)
        {
            byte[] payload = new byte[size];
            random.NextBytes(payload);
            sent.Add(payload);
            ChildProcess pub = Env.StartPublisher(channel, "--file", Env.WriteFile($"{size}.bin", payload));
            pub.CloseStdin();
            pub.WaitForExit(Timeouts.Message, $"myipcpub --file ({size} bytes)");
            Env.AssertPublished(pub, 1);
        }
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        IReadOnlyList<string> lines = sub.StdoutLines();
        Assert.That(lines, Has.Count.EqualTo(sizes.Length), sub.Describe());
        for (int i = 0; i < sizes.Length; i++)
        {
            JsonMessage m = JsonMessage.Parse(lines[i]);
            Assert.That((m.Channel, m.Seq, m.Size), Is.EqualTo((channel, (ulong)(i + 1), sizes[i])), $"message {i + 1}");
            Assert.That(m.Bytes.AsSpan().SequenceEqual(sent[i]), Is.True, $"message {i + 1} ({sizes[i]} bytes) arrives byte for byte");
        }
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
    }

    /// <summary>10,000 messages from an mqueue publisher to an mqueue subscriber through the depth-10 queues: all of them, in order.</summary>
    [Test]
    public void TenThousandMessages_ThroughDepth10Queues_NoLossInOrder()
    {
        const int count = 10_000;
        Env.StartHub();
        Env.SubscriberBackend = Env.PublisherBackend = "mqueue";
        ChildProcess sub = Env.StartSubscriber("mq.count", "--count", count.ToString(CultureInfo.InvariantCulture));
        ChildProcess pub = Env.StartPublisher("mq.count");
        var text = new StringBuilder();
        for (int i = 1; i <= count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"n-{i:D5}\n");
        }
        Task feeding = pub.FeedStdinAndClose(Encoding.ASCII.GetBytes(text.ToString()));
        Assert.That(pub.WaitForExit(TimeSpan.FromSeconds(120), "myipcpub of 10,000 lines"), Is.Zero, pub.Describe());
        Assert.That(feeding.Wait(Timeouts.Message), Is.True);
        Env.AssertPublished(pub, 1, count);

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 10000"), Is.Zero, sub.Describe());
        IReadOnlyList<string> lines = sub.StdoutLines();
        Assert.That(lines, Has.Count.EqualTo(count), sub.Describe());
        for (int i = 0; i < count; i++)
        {
            string expected = string.Create(CultureInfo.InvariantCulture, $"[mq.count] n-{i + 1:D5}");
            if (lines[i] != expected)
            {
                Assert.Fail($"line {i + 1} is '{lines[i]}', expected '{expected}'\n{sub.Describe()}");
            }
        }
        Assert.That(sub.StderrText(), Does.Not.Contain("missed"), sub.Describe());
    }

    /// <summary>
    /// A stopped subscriber's h2c queue holds three priority-0 messages and then one of priority 7 (the test waits
    /// until the queue holds all four frames, so nothing depends on timing): once resumed, the subscriber reads the
    /// priority-7 message first, then the others in their order.
    /// </summary>
    [Test]
    public void HigherPriorityMessage_OvertakesTheLowerOnesWaitingInTheSubscribersQueue()
    {
        const string channel = "mq.prio";
        HubProcess hub = Env.StartHub();
        Env.SubscriberBackend = Env.PublisherBackend = "mqueue";
        ChildProcess sub = Env.StartSubscriber(channel, "--format", "json", "--count", "4");
        ulong subId = ClientIdOf(hub, sub);
        sub.Signal(ChildProcess.SigStop);

        string[] low = ["low-1", "low-2", "low-3"];
        ChildProcess lows = Env.StartPublisher(channel);
        lows.WriteStdin(Encoding.ASCII.GetBytes(string.Join("\n", low) + "\n"));
        lows.CloseStdin();
        lows.WaitForExit(Timeouts.Message, "the priority-0 publisher");
        Env.AssertPublished(lows, 1, low.Length);
        ChildProcess high = Env.Publish(channel, "urgent", "--priority", "7");
        Env.AssertPublished(high, 1);

        // All four Data frames are in the subscriber's h2c queue (QSIZE counts their bytes).
        int expectedBytes = low.Sum(m => FrameWriter.FrameLength(channel.Length, m.Length)) + FrameWriter.FrameLength(channel.Length, "urgent".Length);
        string h2c = $"/ipchub.{hub.Pid}.{subId}.h2c";
        int fd = hub.Descriptors().Single(d => d.Value.StartsWith(h2c, StringComparison.Ordinal)).Key;
        WaitUntil(() => QueuedBytes(hub.Pid, fd) == expectedBytes, $"the hub writes all four frames ({expectedBytes} bytes) into {h2c}", hub);

        sub.Signal(ChildProcess.SigCont);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 4"), Is.Zero, sub.Describe());
        var received = sub.StdoutLines().Select(JsonMessage.Parse).Select(m => (m.Text, m.Seq)).ToList();
        Assert.That(received, Is.EqualTo(new (string?, ulong)[] { ("urgent", 4), ("low-1", 1), ("low-2", 2), ("low-3", 3) }),
            "the priority-7 message overtakes the priority-0 ones still queued\n" + sub.Describe());
    }

    /// <summary>
    /// As above, but the subscriber had already received a message of the channel: the overtaking message arrives
    /// with a higher sequence number than the ones it overtook. docs/PROTOCOL.md says such a subscriber "may see a
    /// channel's sequence numbers out of order": that is no loss, and myipcsub should not report missed messages.
    /// </summary>
    [Test]
    public void PriorityOvertaking_IsNotReportedAsMissedMessages()
    {
        const string channel = "mq.prio";
        HubProcess hub = Env.StartHub();
        Env.SubscriberBackend = Env.PublisherBackend = "mqueue";
        ChildProcess sub = Env.StartSubscriber(channel, "--count", "5");
        ulong subId = ClientIdOf(hub, sub);
        Env.PublishOk(channel, "first", 1);
        sub.WaitForStdoutLine(l => l == $"[{channel}] first", Timeouts.Message, "the first message, before the stop");
        sub.Signal(ChildProcess.SigStop);

        ChildProcess lows = Env.StartPublisher(channel);
        lows.WriteStdin("low-2\nlow-3\nlow-4\n"u8);
        lows.CloseStdin();
        lows.WaitForExit(Timeouts.Message, "the priority-0 publisher");
        Env.AssertPublished(lows, 1, 3);
        Env.AssertPublished(Env.Publish(channel, "urgent", "--priority", "7"), 1);
        int expectedBytes = 3 * FrameWriter.FrameLength(channel.Length, 5) + FrameWriter.FrameLength(channel.Length, 6);
        string h2c = $"/ipchub.{hub.Pid}.{subId}.h2c";
        int fd = hub.Descriptors().Single(d => d.Value.StartsWith(h2c, StringComparison.Ordinal)).Key;
        WaitUntil(() => QueuedBytes(hub.Pid, fd) == expectedBytes, $"the hub writes all four frames ({expectedBytes} bytes) into {h2c}", hub);

        sub.Signal(ChildProcess.SigCont);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 5"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "first", "urgent", "low-2", "low-3", "low-4" }.Select(t => $"[{channel}] {t}")), sub.Describe());
        Assert.That(sub.StderrLines().Where(l => l.Contains("missed", StringComparison.Ordinal)), Is.Empty,
            "nothing was lost: a priority overtake is not a gap\n" + sub.Describe());
    }

    /// <summary>
    /// One client (the library, over mqueue) pipelines 300 publishes of two priorities: 20,000-byte messages at
    /// priority 0 (each split over three queue messages) and small ones at priority 9, which may overtake them in
    /// c2h. Every publish is acked with its own result, every message reaches a socket subscriber whole, and each
    /// priority's messages keep their order.
    /// </summary>
    [Test]
    public async Task MixedPriorityPipelinedPublishes_AreAllAckedAndRouted_EachPriorityInOrder()
    {
        const string channel = "mq.mixed";
        const int count = 300;
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber(channel, "--format", "json", "--count", count.ToString(CultureInfo.InvariantCulture));
        await using var client = await IpcCore.Client.HubClient.ConnectAsync(new IpcCore.Client.HubClientOptions
        {
            Directory = Env.Directory,
            Transport = TransportKind.MessageQueue,
            ClientName = "it-mq-mixed",
            ConnectTimeout = Timeouts.Start,
            Reconnect = false,
        });
        var payloads = new List<byte[]>();
        var pending = new List<Task<IpcCore.Client.PublishResult>>();
        for (int i = 0; i < count; i++)
        {
            bool high = i % 3 == 2;
            byte[] payload = Encoding.ASCII.GetBytes($"{(high ? "high" : "low")}-{i:D3}-" + new string(high ? 'h' : 'l', high ? 10 : 20_000));
            payloads.Add(payload);
            pending.Add(client.PublishAsync(channel, payload, (ushort)(high ? 9 : 0)).AsTask());
        }
        var results = new List<IpcCore.Client.PublishResult>();
        foreach (Task<IpcCore.Client.PublishResult> p in pending)
        {
            results.Add(await p.WaitAsync(Timeouts.Message));
        }
        Assert.That(results.Select(r => r.Delivered), Is.All.EqualTo(1), "every publish reached the subscriber");
        Assert.That(results.Select(r => r.ChannelSequence).Order(), Is.EqualTo(Enumerable.Range(1, count).Select(i => (ulong)i)),
            "every publish got its own sequence number");

        int overtaking = Enumerable.Range(0, count).Count(i => i % 3 == 2 && results[i].ChannelSequence < results[i - 1].ChannelSequence);
        TestContext.Out.WriteLine($"{overtaking} of {count / 3} priority-9 messages overtook the priority-0 one published just before them");

        Assert.That(sub.WaitForExit(Timeouts.Message, $"myipcsub --count {count}"), Is.Zero, sub.Describe());
        var received = sub.StdoutLines().Select(JsonMessage.Parse).ToList();
        Assert.That(received.Select(m => m.Seq), Is.EqualTo(Enumerable.Range(1, count).Select(i => (ulong)i)), "the socket subscriber sees the channel's order");
        var bySeq = received.ToDictionary(m => m.Seq, m => m.Bytes);
        for (int i = 0; i < count; i++)
        {
            Assert.That(bySeq[results[i].ChannelSequence], Is.EqualTo(payloads[i]),
                $"publish {i + 1}'s Ack names the sequence number its message was routed with");
        }
        foreach (string kind in (string[])["low", "high"])
        {
            var order = received.Select(m => Encoding.ASCII.GetString(m.Bytes, 0, Math.Min(m.Bytes.Length, 8))).Where(t => t.StartsWith(kind + "-", StringComparison.Ordinal)).ToList();
            Assert.That(order, Is.Ordered, $"the {kind}-priority messages keep their publishing order");
        }
    }

    // --- helpers -------------------------------------------------------------------------------------

    private static (int Depth, int Size, string C2h, string H2c) ParseWelcome(byte[] extension)
    {
        ReadOnlySpan<byte> rest = extension;
        int depth = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(rest));
        int size = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]));
        rest = rest[8..];
        string c2h = ReadName(ref rest), h2c = ReadName(ref rest);
        Assert.That(rest.Length, Is.Zero, "nothing follows the two names in Welcome");
        return (depth, size, c2h, h2c);

        static string ReadName(ref ReadOnlySpan<byte> rest)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
            string name = Encoding.UTF8.GetString(rest.Slice(2, length));
            rest = rest[(2 + length)..];
            return name;
        }
    }

    /// <summary>The hub's client id of <paramref name="client"/> (from its log line "client N 'myipcsub-PID' connected").</summary>
    private static ulong ClientIdOf(HubProcess hub, ChildProcess client)
    {
        string line = hub.Child.WaitForStderrLine(l => l.Contains($"'{client.Tool}-{client.Pid}' connected", StringComparison.Ordinal),
            Timeouts.Message, "the hub logs the client's connection");
        return ulong.Parse(ConnectedLine().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>QSIZE of a queue the hub holds (reading a message-queue file gives its status line).</summary>
    private static int QueuedBytes(int pid, int fd)
    {
        string status = File.ReadAllText($"/proc/{pid}/fd/{fd}");
        Match m = Regex.Match(status, @"QSIZE:(\d+)");
        return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }

    /// <summary>The names of the hub's queues in /dev/mqueue.</summary>
    private static List<string> NamesOf(HubProcess hub) => [.. Directory.EnumerateFileSystemEntries("/dev/mqueue", $"ipchub.{hub.Pid}.*")];

    /// <summary>The hub's descriptors of its message queues (named or not).</summary>
    private static List<string> MqDescriptors(HubProcess hub)
        => [.. hub.Descriptors().Values.Where(t => t.StartsWith($"/ipchub.{hub.Pid}.", StringComparison.Ordinal))];

    private static void WaitUntil(Func<bool> condition, string what, HubProcess hub)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Timeouts.Message)
            {
                Assert.Fail($"{what}: not within {Timeouts.Message.TotalSeconds:0} s\nqueues: {string.Join(", ", NamesOf(hub))}; " +
                    $"descriptors: {string.Join(", ", MqDescriptors(hub))}\n{hub.Child.Describe()}");
            }
            Thread.Sleep(10);
        }
    }
}
