using System.Collections.Concurrent;
using System.Text;
using IpcCore.Client;
using IpcCore.Protocol;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests.Client;

[TestFixture]
public sealed class HubClientTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private ScratchDirectory _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new ScratchDirectory("client");

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private HubClientOptions Options(bool reconnect = true, TimeSpan? connectTimeout = null, TimeSpan? reconnectTimeout = null) => new()
    {
        Directory = _dir.Path,
        ClientName = "test-client",
        Reconnect = reconnect,
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
        ReconnectTimeout = reconnectTimeout ?? TimeSpan.FromSeconds(10),
    };

    private Task<HubClient> Connect(bool reconnect = true, TimeSpan? reconnectTimeout = null)
        => HubClient.ConnectAsync(Options(reconnect, reconnectTimeout: reconnectTimeout));

    // --- connecting --------------------------------------------------------------------------

    [Test]
    public async Task Connect_completes_the_handshake()
    {
        using var hub = new FakeHub(_dir.Path, maxMessageSize: 12345) { Pid = 777 };
        await using HubClient client = await Connect();

        Assert.Multiple(() =>
        {
            Assert.That(client.Transport, Is.EqualTo(TransportKind.Socket));
            Assert.That(client.MaxMessageSize, Is.EqualTo(12345));
            Assert.That(client.HubPid, Is.EqualTo(777));
            Assert.That(client.ClientId, Is.EqualTo(1ul));
            Assert.That(client.SocketPath, Is.EqualTo(hub.SocketPath));
            Assert.That(client.State, Is.EqualTo(HubConnectionState.Connected));
        });
        ReceivedFrame hello = hub.WaitFor(f => f.Type == FrameType.Hello, "Hello");
        Assert.That(HelloPayload.TryRead(hello.Payload, out HelloPayload payload, out _), Is.True);
        Assert.That(payload, Is.EqualTo(new HelloPayload(TransportKind.Socket, "test-client")));
    }

    [Test]
    public void The_default_client_name_is_process_dash_pid()
        => Assert.That(new HubClientOptions().ClientName, Does.EndWith($"-{Environment.ProcessId}"));

    [Test]
    public async Task Connect_waits_for_a_hub_that_is_not_up_yet()
    {
        Task<HubClient> connecting = HubClient.ConnectAsync(Options(connectTimeout: TimeSpan.FromSeconds(10)));
        await Task.Delay(300);
        Assert.That(connecting.IsCompleted, Is.False, "no hub yet: still waiting");

        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await connecting.WaitAsync(s_wait);
        Assert.That(client.State, Is.EqualTo(HubConnectionState.Connected));
    }

    [Test]
    public void Connect_gives_up_after_the_timeout_naming_the_socket_and_the_errno()
    {
        var error = Assert.ThrowsAsync<HubConnectionException>(() =>
            HubClient.ConnectAsync(Options(connectTimeout: TimeSpan.FromMilliseconds(200))));
        Assert.That(error!.Message, Is.EqualTo(
            $"cannot connect to the hub at {Path.Combine(_dir.Path, "hub.sock")}: ENOENT (No such file or directory); waited 0.2 s"));
    }

    [Test]
    public void Connect_retries_a_stale_socket_file_then_reports_ECONNREFUSED()
    {
        // A socket file nobody listens on (a hub that died): connect(2) says ECONNREFUSED.
        using (UnixSocket stale = UnixSocket.CreateStream())
        {
            stale.Bind(Path.Combine(_dir.Path, "hub.sock"));
        }
        var error = Assert.ThrowsAsync<HubConnectionException>(() =>
            HubClient.ConnectAsync(Options(connectTimeout: TimeSpan.FromMilliseconds(150))));
        Assert.That(error!.Message, Does.Contain("ECONNREFUSED").And.EndWith("waited 0.15 s"));
    }

    [Test]
    public void A_refused_hello_is_a_HubException_with_the_code()
    {
        using var hub = new FakeHub(_dir.Path) { RefuseHello = ProtocolErrorCode.TooManyClients };
        var error = Assert.ThrowsAsync<HubException>(() => Connect());
        Assert.That(error!.Code, Is.EqualTo(ProtocolErrorCode.TooManyClients));
        Assert.That(error.Message, Does.Contain("refused the connection: TooManyClients"));
    }

    [Test]
    public void Every_transport_is_available_and_an_unknown_one_fails_before_connecting()
    {
        foreach (TransportKind kind in Enum.GetValues<TransportKind>())
        {
            Assert.That(HubClient.IsTransportAvailable(kind), Is.True, kind.ToString());
        }
        Assert.That(HubClient.IsTransportAvailable((TransportKind)99), Is.False);
        HubClientOptions options = Options();
        options.Transport = (TransportKind)99;
        Assert.ThrowsAsync<NotSupportedException>(() => HubClient.ConnectAsync(options));
    }

    [Test]
    public void Options_are_checked()
    {
        HubClientOptions options = Options();
        options.ClientName = "bad\nname";
        Assert.ThrowsAsync<ArgumentException>(() => HubClient.ConnectAsync(options));
        options = Options(connectTimeout: TimeSpan.FromSeconds(-1));
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => HubClient.ConnectAsync(options));
    }

    // --- publishing --------------------------------------------------------------------------

    [Test]
    public async Task Publish_completes_with_the_ack()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient subscriber = await Connect();
        await using HubSubscription subscription = await subscriber.SubscribeAsync("weather");
        await using HubClient publisher = await Connect();

        PublishResult first = await publisher.PublishAsync("weather", "Hello"u8.ToArray());
        PublishResult second = await publisher.PublishAsync("weather", "World"u8.ToArray());
        PublishResult nobody = await publisher.PublishAsync("other", "x"u8.ToArray());

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new PublishResult(1, 0, 1)));
            Assert.That(second, Is.EqualTo(new PublishResult(1, 0, 2)));
            Assert.That(nobody, Is.EqualTo(new PublishResult(0, 0, 1)));
        });
    }

    [Test]
    public async Task Many_publishes_in_flight_are_matched_to_their_acks_by_request_id()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        hub.HoldAcks = true;

        const int count = 500;
        var tasks = new List<Task<PublishResult>>();
        for (int i = 0; i < count; i++)
        {
            tasks.Add(client.PublishAsync("pipelined", Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).AsTask());
        }
        WaitUntil(() => hub.Received.Count(f => f.Type == FrameType.Publish) == count, "every publish reached the hub");
        Assert.That(tasks.Any(t => t.IsCompleted), Is.False, "no Ack yet");

        hub.ReleaseAcks(reverse: true);
        PublishResult[] results = await Task.WhenAll(tasks).WaitAsync(s_wait);

        // The hub numbered the messages in arrival order; each task must get its own message's number.
        var sequenceOfPayload = hub.Received.Where(f => f.Type == FrameType.Publish)
            .Select((f, index) => (f.Text, Sequence: (ulong)index + 1)).ToDictionary(x => x.Text, x => x.Sequence);
        for (int i = 0; i < count; i++)
        {
            Assert.That(results[i].ChannelSequence, Is.EqualTo(sequenceOfPayload[i.ToString(System.Globalization.CultureInfo.InvariantCulture)]), $"publish {i}");
        }
        Assert.That(hub.Received.Where(f => f.Type == FrameType.Publish).Select(f => f.Sequence).Distinct().Count(), Is.EqualTo(count),
            "every request has its own id");
    }

    [Test]
    public async Task Concurrent_publishers_share_the_connection()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        const int threads = 4;
        const int each = 500;
        Task<PublishResult>[][] all = await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
            Enumerable.Range(0, each).Select(i => client.PublishAsync($"c{t}", new byte[10]).AsTask()).ToArray())));
        PublishResult[][] results = await Task.WhenAll(all.Select(Task.WhenAll)).WaitAsync(s_wait);
        for (int t = 0; t < threads; t++)
        {
            Assert.That(results[t].Select(r => r.ChannelSequence).Order(), Is.EqualTo(Enumerable.Range(1, each).Select(i => (ulong)i)));
        }
    }

    [Test]
    public async Task A_burst_larger_than_the_send_buffer_is_flow_controlled_and_arrives_whole()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        const int threads = 2;
        const int each = 300;
        byte[] payload = new byte[64 * 1024]; // 2 x 300 x 64 KiB: far over the 4 MiB send buffer
        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < each; i++)
            {
                client.PublishAndForget("burst", payload);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));
        await client.FlushAsync().AsTask().WaitAsync(s_wait);
        Assert.That(hub.Received.Count(f => f.Type == FrameType.Publish && f.Payload.Length == payload.Length), Is.EqualTo(threads * each));
    }

    [Test]
    public async Task Fire_and_forget_sends_NoAck_and_flush_waits_for_the_hub()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient subscriber = await Connect();
        var received = new ConcurrentQueue<string>();
        await subscriber.SubscribeAsync("ff", (channel, sequence, payload) => received.Enqueue(Encoding.UTF8.GetString(payload)));
        await using HubClient publisher = await Connect();

        for (int i = 0; i < 100; i++)
        {
            publisher.PublishAndForget("ff", Encoding.UTF8.GetBytes($"m{i}"));
        }
        await publisher.FlushAsync().AsTask().WaitAsync(s_wait);

        ReceivedFrame[] publishes = [.. hub.Received.Where(f => f.Type == FrameType.Publish)];
        Assert.That(publishes, Has.Length.EqualTo(100), "the flush came back after every publish was handled");
        Assert.That(publishes.All(f => f.Flags == FrameFlags.NoAck), Is.True);
        Assert.That(hub.Received.Count(f => f.Type == FrameType.Ping), Is.EqualTo(1));
        WaitUntil(() => received.Count == 100, "every message delivered");
        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 100).Select(i => $"m{i}")));
    }

    [Test]
    public async Task An_oversized_message_is_refused_before_sending_and_the_connection_stays_usable()
    {
        using var hub = new FakeHub(_dir.Path, maxMessageSize: 1024);
        await using HubClient client = await Connect();

        var error = Assert.ThrowsAsync<HubException>(async () => await client.PublishAsync("weather", new byte[1025]));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Code, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge));
            Assert.That(error.Message, Does.StartWith("publish to 'weather' refused: PayloadTooLarge: the message is 1025 bytes; the maximum message size is 1024 bytes"));
            Assert.That(error.Reason, Is.EqualTo("the message is 1025 bytes; the maximum message size is 1024 bytes"));
        });
        Assert.Throws<HubException>(() => client.PublishAndForget("weather", new byte[5000]));

        Assert.That(await client.PublishAsync("weather", new byte[1024]), Is.EqualTo(new PublishResult(0, 0, 1)), "exactly the limit is fine");
        Assert.That(hub.Received.Count(f => f.Type == FrameType.Publish), Is.EqualTo(1), "nothing oversized was sent");
    }

    [TestCase("")]
    [TestCase("a..b")]
    [TestCase("weather.*")]
    [TestCase("wé")]
    public async Task An_invalid_channel_name_is_an_ArgumentException_naming_it(string channel)
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var error = Assert.ThrowsAsync<ArgumentException>(async () => await client.PublishAsync(channel, new byte[1]));
        Assert.That(error!.Message, Does.StartWith($"invalid channel name '{channel}': "));
        Assert.Throws<ArgumentException>(() => client.PublishAndForget(channel, default));
    }

    [Test]
    public async Task A_channel_name_over_255_bytes_is_refused()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var error = Assert.ThrowsAsync<ArgumentException>(async () => await client.PublishAsync(new string('a', 256), new byte[1]));
        Assert.That(error!.Message, Does.Contain("256 bytes long; the limit is 255"));
    }

    [Test]
    public async Task Error_frames_fail_the_request_they_name_and_the_connection_stays_usable()
    {
        using var hub = new FakeHub(_dir.Path)
        {
            PublishError = channel => channel == "full" ? ProtocolErrorCode.TooManyChannels : null,
        };
        await using HubClient client = await Connect();

        var error = Assert.ThrowsAsync<HubException>(async () => await client.PublishAsync("full", new byte[1]));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Code, Is.EqualTo(ProtocolErrorCode.TooManyChannels));
            Assert.That(error.Message, Is.EqualTo("publish to 'full' refused by the hub: TooManyChannels: the fake hub refuses 'full'"));
            Assert.That(error.IsFatal, Is.False);
        });
        Assert.That((await client.PublishAsync("fine", new byte[1])).ChannelSequence, Is.EqualTo(1ul));
    }

    [Test]
    public async Task A_refused_fire_and_forget_publish_is_reported_through_ErrorReceived()
    {
        using var hub = new FakeHub(_dir.Path)
        {
            PublishError = channel => channel == "full" ? ProtocolErrorCode.TooManyChannels : null,
        };
        await using HubClient client = await Connect();
        var errors = new ConcurrentQueue<HubErrorEventArgs>();
        client.ErrorReceived += (_, e) => errors.Enqueue(e);

        client.PublishAndForget("full", new byte[1]);
        await client.FlushAsync();

        Assert.That(errors, Has.Count.EqualTo(1));
        var error = (HubException)errors.Single().Error;
        Assert.That(error.Code, Is.EqualTo(ProtocolErrorCode.TooManyChannels));
        Assert.That(errors.Single().RequestId, Is.Not.Zero);
    }

    [Test]
    public async Task A_fatal_error_ends_the_connection_and_fails_the_request()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect(reconnect: false);
        Task<PublishResult> pending;
        hub.HoldAcks = true;
        pending = client.PublishAsync("x", new byte[1]).AsTask();
        ReceivedFrame publish = hub.WaitFor(f => f.Type == FrameType.Publish, "the publish");
        byte[] fatal = new byte[FrameWriter.ErrorFrameLength("too slow")];
        FrameWriter.WriteError(fatal, publish.Sequence, ProtocolErrorCode.SlowConsumer, "too slow", fatal: true);
        hub.SendToAll(fatal);

        var error = Assert.ThrowsAsync<HubException>(() => pending.WaitAsync(s_wait));
        Assert.That(error!.IsFatal, Is.True);
        Assert.That(error.Code, Is.EqualTo(ProtocolErrorCode.SlowConsumer));
        WaitUntil(() => client.State == HubConnectionState.Closed, "the client closed");
        var closed = Assert.Throws<HubConnectionException>(() => client.PublishAndForget("x", default));
        Assert.That(closed!.Message, Does.StartWith("connection to the hub lost: the hub closed the connection: SlowConsumer: too slow"));
    }

    [Test]
    public async Task A_cancelled_publish_stops_waiting()
    {
        using var hub = new FakeHub(_dir.Path) { HoldAcks = true };
        await using HubClient client = await Connect();
        using var cts = new CancellationTokenSource();
        ValueTask<PublishResult> pending = client.PublishAsync("x", new byte[1], cts.Token);
        await cts.CancelAsync();
        Assert.ThrowsAsync<OperationCanceledException>(async () => await pending);

        hub.ReleaseAcks(); // the late Ack is ignored
        Assert.That((await client.PublishAsync("x", new byte[1])).ChannelSequence, Is.EqualTo(2ul));
    }

    [Test]
    public async Task Publish_allocates_nothing_per_message()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        byte[] payload = new byte[64];
        for (int i = 0; i < 1000; i++)
        {
            client.PublishAndForget("alloc", payload); // warm up: buffers, JIT
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            client.PublishAndForget("alloc", payload);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.LessThan(1024), "PublishAndForget allocated per call");
        await client.FlushAsync();
    }

    // --- subscribing -------------------------------------------------------------------------

    [Test]
    public async Task Subscribe_completes_when_the_hub_acked()
    {
        using var hub = new FakeHub(_dir.Path) { HoldAcks = true };
        await using HubClient client = await Connect();
        Task<HubSubscription> subscribing = client.SubscribeAsync("weather.*");
        ReceivedFrame subscribe = hub.WaitFor(f => f.Type == FrameType.Subscribe, "Subscribe");
        Assert.That(subscribe.Channel, Is.EqualTo("weather.*"));
        await Task.Delay(100);
        Assert.That(subscribing.IsCompleted, Is.False, "not acked yet");

        hub.ReleaseAcks();
        HubSubscription subscription = await subscribing.WaitAsync(s_wait);
        Assert.That(subscription.Pattern, Is.EqualTo("weather.*"));
        Assert.That(subscription.IsActive, Is.True);
    }

    [TestCase("")]
    [TestCase("a.>.b")]
    [TestCase("a..b")]
    public async Task An_invalid_pattern_is_an_ArgumentException(string pattern)
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var error = Assert.ThrowsAsync<ArgumentException>(() => client.SubscribeAsync(pattern));
        Assert.That(error!.Message, Does.StartWith($"invalid subscription pattern '{pattern}': "));
    }

    [Test]
    public async Task A_message_goes_to_every_local_subscription_that_matches()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var log = new ConcurrentQueue<string>();
        await client.SubscribeAsync("a.*", (c, s, p) => log.Enqueue($"a.*:{Encoding.UTF8.GetString(c)}:{s}:{Encoding.UTF8.GetString(p)}"));
        await client.SubscribeAsync("a.b", (c, s, p) => log.Enqueue($"a.b:{Encoding.UTF8.GetString(c)}:{s}:{Encoding.UTF8.GetString(p)}"));
        await client.SubscribeAsync("c", (c, s, p) => log.Enqueue("c"));
        HubSubscription enumerated = await client.SubscribeAsync("a.>");
        await using HubClient publisher = await Connect();

        PublishResult result = await publisher.PublishAsync("a.b", "hi"u8.ToArray());
        Assert.That(result.Delivered, Is.EqualTo(1), "the hub delivers once per client");

        WaitUntil(() => log.Count == 2, "both handlers");
        Assert.That(log.Order(), Is.EqualTo((string[])["a.*:a.b:1:hi", "a.b:a.b:1:hi"]));
        await using IAsyncEnumerator<HubMessage> messages = enumerated.GetAsyncEnumerator();
        Assert.That(await messages.MoveNextAsync().AsTask().WaitAsync(s_wait), Is.True);
        Assert.That(messages.Current.Channel, Is.EqualTo("a.b"));
        Assert.That(messages.Current.Sequence, Is.EqualTo(1ul));
        Assert.That(messages.Current.Payload.ToArray(), Is.EqualTo("hi"u8.ToArray()));
        Assert.That(enumerated.ReceivedMessages, Is.EqualTo(1));
    }

    [Test]
    public async Task Two_local_subscriptions_of_one_pattern_share_the_hubs_subscription()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        HubSubscription first = await client.SubscribeAsync("p");
        HubSubscription second = await client.SubscribeAsync("p");

        await first.UnsubscribeAsync();
        await Task.Delay(50);
        Assert.That(hub.Received.Count(f => f.Type == FrameType.Unsubscribe), Is.Zero, "the other subscription still needs it");
        Assert.That(first.IsActive, Is.False);

        await second.UnsubscribeAsync();
        ReceivedFrame unsubscribe = hub.WaitFor(f => f.Type == FrameType.Unsubscribe, "Unsubscribe");
        Assert.That(unsubscribe.Channel, Is.EqualTo("p"));
    }

    [Test]
    public async Task Unsubscribe_ends_the_enumeration()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        HubSubscription subscription = await client.SubscribeAsync("e");
        Task<int> reading = Task.Run(async () =>
        {
            int n = 0;
            await foreach (HubMessage _ in subscription)
            {
                n++;
            }
            return n;
        });
        await using (HubClient publisher = await Connect())
        {
            await publisher.PublishAsync("e", new byte[1]);
            await publisher.PublishAsync("e", new byte[1]);
        }
        WaitUntil(() => subscription.ReceivedMessages == 2, "two messages");
        await subscription.UnsubscribeAsync();
        Assert.That(await reading.WaitAsync(s_wait), Is.EqualTo(2));
    }

    [Test]
    public async Task A_handler_subscription_cannot_be_enumerated()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        HubSubscription subscription = client.Subscribe("h", (_, _, _) => { });
        Assert.Throws<InvalidOperationException>(() => subscription.GetAsyncEnumerator());
    }

    [Test]
    public async Task A_gap_in_a_channels_sequence_is_counted_and_reported()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var seen = new ConcurrentQueue<ulong>();
        HubSubscription subscription = await client.SubscribeAsync("g.*", (_, s, _) => seen.Enqueue(s));
        var gaps = new ConcurrentQueue<HubMessagesMissedEventArgs>();
        client.MessagesMissed += (_, e) => gaps.Enqueue(e);

        foreach (ulong s in (ulong[])[1, 2, 5, 6, 10])
        {
            hub.InjectData("g.one", s, "x"u8);
        }
        hub.InjectData("g.two", 7, "x"u8); // the first message of a channel is no gap
        WaitUntil(() => seen.Count == 6, "six messages");

        Assert.That(subscription.MissedMessages, Is.EqualTo(2 + 3));
        Assert.That(gaps.Select(g => (g.Channel, g.FirstMissed, g.LastMissed, g.Count)),
            Is.EqualTo(new[] { ("g.one", 3ul, 4ul, 2L), ("g.one", 7ul, 9ul, 3L) }));
    }

    [Test]
    public async Task The_handler_path_allocates_nothing_per_message()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        long atStart = 0;
        long atEnd = 0;
        int count = 0;
        const int warmup = 500;
        const int total = 5500;
        using var done = new ManualResetEventSlim();
        await client.SubscribeAsync("z", (_, _, _) =>
        {
            count++;
            if (count == warmup)
            {
                atStart = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (count == total)
            {
                atEnd = GC.GetAllocatedBytesForCurrentThread();
                done.Set();
            }
        });
        byte[] frame = new byte[FrameWriter.FrameLength(1, 32)];
        for (int i = 1; i <= total; i++)
        {
            FrameWriter.Write(frame, FrameType.Data, FrameFlags.None, (ulong)i, "z"u8, new byte[32]);
            hub.SendToAll(frame);
        }
        Assert.That(done.Wait(s_wait), Is.True);
        Assert.That(atEnd - atStart, Is.LessThan(1024), "the receive thread allocated per message");
    }

    [Test]
    public async Task A_throwing_handler_is_reported_and_delivery_goes_on()
    {
        using var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var errors = new ConcurrentQueue<Exception>();
        client.ErrorReceived += (_, e) => errors.Enqueue(e.Error);
        int calls = 0;
        await client.SubscribeAsync("t", (_, _, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("boom");
            }
        });
        hub.InjectData("t", 1, "a"u8);
        hub.InjectData("t", 2, "b"u8);
        WaitUntil(() => Volatile.Read(ref calls) == 2, "both messages");
        Assert.That(errors.Single().Message, Is.EqualTo("boom"));
    }

    // --- losing the hub ----------------------------------------------------------------------

    [Test]
    public async Task A_restarted_hub_gets_the_client_back_with_its_subscriptions()
    {
        var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        var states = new ConcurrentQueue<HubConnectionStateChangedEventArgs>();
        client.StateChanged += (_, e) => states.Enqueue(e);
        var received = new ConcurrentQueue<string>();
        await client.SubscribeAsync("r.*", (c, s, p) => received.Enqueue($"{Encoding.UTF8.GetString(c)}:{s}"));
        HubSubscription enumerated = await client.SubscribeAsync("q");
        await enumerated.UnsubscribeAsync(); // dropped before the restart: not renewed

        hub.Stop();
        hub.Dispose();
        WaitUntil(() => states.Any(s => s.State == HubConnectionState.Reconnecting), "Reconnecting");
        Assert.That(client.State, Is.EqualTo(HubConnectionState.Reconnecting));

        using var restarted = new FakeHub(_dir.Path);
        WaitUntil(() => states.Any(s => s.State == HubConnectionState.Reconnected), "Reconnected");
        Assert.That(states.Single(s => s.State == HubConnectionState.Reconnected).ResubscribedPatterns, Is.EqualTo(1));
        Assert.That(states.First().Error!.Message, Is.EqualTo("connection to the hub lost: the hub said goodbye: hub shutting down"));
        Assert.That(restarted.Received.Where(f => f.Type == FrameType.Subscribe).Select(f => f.Channel), Is.EqualTo((string[])["r.*"]));
        Assert.That(client.State, Is.EqualTo(HubConnectionState.Connected));

        await using HubClient publisher = await Connect();
        Assert.That((await publisher.PublishAsync("r.x", new byte[1])).Delivered, Is.EqualTo(1));
        WaitUntil(() => received.Contains("r.x:1"), "a message after the restart");
        Assert.That(await client.PublishAsync("r.y", new byte[1]), Is.EqualTo(new PublishResult(1, 0, 1)), "publishing works again");
    }

    [Test]
    public async Task An_unanswered_publish_fails_when_the_connection_is_lost_and_is_not_sent_again()
    {
        var hub = new FakeHub(_dir.Path) { Swallow = channel => channel == "lost" };
        await using HubClient client = await Connect();
        Task<PublishResult> pending = client.PublishAsync("lost", "once"u8.ToArray()).AsTask();
        hub.WaitFor(f => f.Type == FrameType.Publish, "the publish");

        hub.DropConnections();
        var error = Assert.ThrowsAsync<HubConnectionException>(() => pending.WaitAsync(s_wait));
        Assert.That(error!.Message, Is.EqualTo("connection to the hub lost: the hub closed the connection"));

        WaitUntil(() => hub.ConnectionCount == 1 && client.State == HubConnectionState.Connected, "reconnected to the same hub");
        await client.FlushAsync().AsTask().WaitAsync(s_wait);
        Assert.That(hub.Received.Count(f => f.Type == FrameType.Publish), Is.EqualTo(1), "never retried");
        hub.Dispose();
    }

    [Test]
    public async Task Requests_made_while_reconnecting_go_to_the_new_hub()
    {
        var hub = new FakeHub(_dir.Path);
        await using HubClient client = await Connect();
        hub.Stop();
        WaitUntil(() => client.State == HubConnectionState.Reconnecting, "Reconnecting");

        Task<PublishResult> pending = client.PublishAsync("later", new byte[1]).AsTask();
        await Task.Delay(100);
        Assert.That(pending.IsCompleted, Is.False);

        using var restarted = new FakeHub(_dir.Path);
        Assert.That(await pending.WaitAsync(s_wait), Is.EqualTo(new PublishResult(0, 0, 1)));
    }

    [Test]
    public async Task Without_reconnect_a_lost_connection_closes_the_client()
    {
        var hub = new FakeHub(_dir.Path);
        HubClient client = await Connect(reconnect: false);
        var closed = new TaskCompletionSource<HubConnectionStateChangedEventArgs>();
        client.StateChanged += (_, e) =>
        {
            if (e.State == HubConnectionState.Closed)
            {
                closed.TrySetResult(e);
            }
        };
        HubSubscription subscription = await client.SubscribeAsync("n");
        Task<int> reading = Task.Run(async () =>
        {
            int n = 0;
            await foreach (HubMessage _ in subscription)
            {
                n++;
            }
            return n;
        });

        hub.Stop();
        HubConnectionStateChangedEventArgs e = await closed.Task.WaitAsync(s_wait);
        Assert.That(e.Error, Is.InstanceOf<HubConnectionException>());
        Assert.That(e.Error!.Message, Is.EqualTo("connection to the hub lost: the hub said goodbye: hub shutting down"));
        Assert.That(client.State, Is.EqualTo(HubConnectionState.Closed));
        Assert.ThrowsAsync<HubConnectionException>(async () => await client.PublishAsync("n", new byte[1]));
        Assert.ThrowsAsync<HubConnectionException>(() => reading.WaitAsync(s_wait));
        await client.DisposeAsync();
        hub.Dispose();
    }

    [Test]
    public async Task Reconnecting_gives_up_after_the_reconnect_timeout()
    {
        var hub = new FakeHub(_dir.Path);
        HubClient client = await Connect(reconnectTimeout: TimeSpan.FromMilliseconds(300));
        var closed = new TaskCompletionSource<HubConnectionStateChangedEventArgs>();
        client.StateChanged += (_, e) =>
        {
            if (e.State == HubConnectionState.Closed)
            {
                closed.TrySetResult(e);
            }
        };
        hub.Stop();
        HubConnectionStateChangedEventArgs e = await closed.Task.WaitAsync(s_wait);
        Assert.That(e.Error!.Message, Does.StartWith("connection to the hub lost: the hub said goodbye: hub shutting down; reconnecting failed for 0.3 s: cannot connect to the hub at ")
            .And.EndWith("ENOENT (No such file or directory)"));
        await client.DisposeAsync();
        hub.Dispose();
    }

    [Test]
    public async Task Dispose_says_goodbye_and_fails_what_is_pending()
    {
        using var hub = new FakeHub(_dir.Path) { HoldAcks = true };
        HubClient client = await Connect();
        Task<PublishResult> pending = client.PublishAsync("d", new byte[1]).AsTask();
        hub.WaitFor(f => f.Type == FrameType.Publish, "the publish");

        await client.DisposeAsync();
        hub.WaitFor(f => f.Type == FrameType.Goodbye, "Goodbye");
        Assert.That(client.State, Is.EqualTo(HubConnectionState.Closed));
        Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(s_wait));
        Assert.Throws<ObjectDisposedException>(() => client.PublishAndForget("d", default));
        await client.DisposeAsync(); // twice is fine
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + s_wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }
            Thread.Sleep(5);
        }
    }
}
