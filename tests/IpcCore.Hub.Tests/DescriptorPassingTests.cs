using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Client;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>Messages with descriptors (SCM_RIGHTS) through an in-process hub: routing, order, limits, refusals.</summary>
[TestFixture]
public sealed class DescriptorPassingTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private static HubClientOptions Options(InProcessHub hub, TransportKind transport, string name) => new()
    {
        Directory = hub.Directory.Path,
        ClientName = name,
        Transport = transport,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Reconnect = false,
    };

    /// <summary>A sealed memfd holding <paramref name="text"/>.</summary>
    private static MemoryFile SealedText(string text)
    {
        MemoryFile file = MemoryFile.Create("test");
        file.Write(Encoding.UTF8.GetBytes(text));
        file.AddSeals(FileSeals.Immutable);
        return file;
    }

    private static string ReadAll(SafeFdHandle handle)
    {
        using MemoryFile file = MemoryFile.FromHandle(FileDescriptor.Duplicate(handle));
        if (file.Size == 0)
        {
            return string.Empty;
        }
        using MappedRegion map = file.Map(readOnly: true);
        return Encoding.UTF8.GetString(map.ReadOnlySpan);
    }

    private static async Task<HubMessage> NextAsync(IAsyncEnumerator<HubMessage> messages)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        Assert.That(await messages.MoveNextAsync().AsTask().WaitAsync(timeout.Token), Is.True, "the subscription ended");
        return messages.Current;
    }

    [TestCase(TransportKind.Socket, TransportKind.Socket)]
    [TestCase(TransportKind.Socket, TransportKind.Pipe)]
    [TestCase(TransportKind.Pipe, TransportKind.Socket)]
    [TestCase(TransportKind.Pipe, TransportKind.Pipe)]
    public async Task A_descriptor_reaches_the_subscriber_as_its_own_handle_of_the_same_file(TransportKind publisher, TransportKind subscriber)
    {
        using InProcessHub hub = InProcessHub.Start("fdpass");
        await using HubClient sub = await HubClient.ConnectAsync(Options(hub, subscriber, "sub"));
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, publisher, "pub"));
        Assert.That(pub.MaxDescriptorsPerMessage, Is.EqualTo(16));
        HubSubscription subscription = await sub.SubscribeAsync("files");
        await using IAsyncEnumerator<HubMessage> messages = subscription.GetAsyncEnumerator();

        using MemoryFile file = SealedText("hello through the hub");
        PublishResult result = await pub.PublishAsync("files", "meta"u8.ToArray(), [file.Handle]);
        Assert.That(result, Is.EqualTo(new PublishResult(1, 0, 1, 0)));

        using HubMessage message = await NextAsync(messages);
        Assert.That(Encoding.UTF8.GetString(message.Payload.Span), Is.EqualTo("meta"));
        Assert.That(message.DescriptorError, Is.Null);
        Assert.That(message.Descriptors, Has.Count.EqualTo(1));
        SafeFdHandle received = message.Descriptors[0];
        Assert.That(received.Fd, Is.Not.EqualTo(file.Handle.Fd).Or.Not.EqualTo(-1));
        Assert.That(FileDescriptor.IsCloseOnExec(received), Is.True);
        Assert.That(ReadAll(received), Is.EqualTo("hello through the hub"));
        Assert.That(MemoryFile.FromHandle(FileDescriptor.Duplicate(received)).GetSeals() & FileSeals.Immutable, Is.EqualTo(FileSeals.Immutable));
    }

    [TestCase(TransportKind.Socket)]
    [TestCase(TransportKind.Pipe)]
    public async Task Plain_and_descriptor_messages_interleaved_keep_their_order_and_each_gets_its_own_descriptors(TransportKind transport)
    {
        using InProcessHub hub = InProcessHub.Start("fdorder");
        await using HubClient sub = await HubClient.ConnectAsync(Options(hub, transport, "sub"));
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, transport, "pub"));
        HubSubscription subscription = await sub.SubscribeAsync("mixed");
        await using IAsyncEnumerator<HubMessage> messages = subscription.GetAsyncEnumerator();

        const int count = 300;
        var files = new List<MemoryFile>();
        var publishes = new List<Task<PublishResult>>();
        for (int i = 0; i < count; i++)
        {
            byte[] payload = Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture));
            int descriptors = i % 3; // 0, 1 or 2 descriptors
            if (descriptors == 0)
            {
                publishes.Add(pub.PublishAsync("mixed", payload).AsTask());
                continue;
            }
            var handles = new SafeHandle[descriptors];
            for (int d = 0; d < descriptors; d++)
            {
                MemoryFile f = SealedText(string.Create(CultureInfo.InvariantCulture, $"{i}.{d}"));
                files.Add(f);
                handles[d] = f.Handle;
            }
            publishes.Add(pub.PublishAsync("mixed", payload, handles).AsTask());
        }
        foreach (Task<PublishResult> p in publishes)
        {
            Assert.That((await p).Delivered, Is.EqualTo(1));
        }
        for (int i = 0; i < count; i++)
        {
            using HubMessage message = await NextAsync(messages);
            Assert.That(Encoding.UTF8.GetString(message.Payload.Span), Is.EqualTo(i.ToString(CultureInfo.InvariantCulture)));
            Assert.That(message.Descriptors, Has.Count.EqualTo(i % 3), $"message {i}");
            for (int d = 0; d < message.Descriptors.Count; d++)
            {
                Assert.That(ReadAll(message.Descriptors[d]), Is.EqualTo(string.Create(CultureInfo.InvariantCulture, $"{i}.{d}")));
            }
        }
        files.ForEach(f => f.Dispose());
    }

    [Test]
    public async Task Subscribers_whose_transport_cannot_carry_descriptors_do_not_get_the_message_and_the_Ack_counts_them()
    {
        using InProcessHub hub = InProcessHub.Start("fdskip");
        TransportKind[] kinds = [TransportKind.Socket, TransportKind.Pipe, TransportKind.Fifo, TransportKind.MessageQueue, TransportKind.SharedMemory];
        var clients = new List<HubClient>();
        var streams = new List<IAsyncEnumerator<HubMessage>>();
        try
        {
            foreach (TransportKind kind in kinds)
            {
                HubClient c = await HubClient.ConnectAsync(Options(hub, kind, "sub-" + TransportNames.Of(kind)));
                clients.Add(c);
                Assert.That(c.MaxDescriptorsPerMessage, Is.EqualTo(kind is TransportKind.Socket or TransportKind.Pipe ? 16 : 0), kind.ToString());
                streams.Add((await c.SubscribeAsync("mix")).GetAsyncEnumerator());
            }
            await using HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "pub"));
            using MemoryFile file = SealedText("x");
            PublishResult withFd = await pub.PublishAsync("mix", "fd"u8.ToArray(), [file.Handle]);
            Assert.That(withFd, Is.EqualTo(new PublishResult(Delivered: 2, NotDelivered: 3, ChannelSequence: 1, CannotCarryDescriptors: 3)));
            PublishResult plain = await pub.PublishAsync("mix", "plain"u8.ToArray());
            Assert.That(plain, Is.EqualTo(new PublishResult(5, 0, 2, 0)));

            for (int i = 0; i < kinds.Length; i++)
            {
                using HubMessage first = await NextAsync(streams[i]);
                bool carries = kinds[i] is TransportKind.Socket or TransportKind.Pipe;
                Assert.That(Encoding.UTF8.GetString(first.Payload.Span), Is.EqualTo(carries ? "fd" : "plain"), kinds[i].ToString());
                Assert.That(first.Sequence, Is.EqualTo(carries ? 1UL : 2UL));
                Assert.That(first.Descriptors, Has.Count.EqualTo(carries ? 1 : 0));
            }
        }
        finally
        {
            foreach (IAsyncEnumerator<HubMessage> s in streams)
            {
                await s.DisposeAsync();
            }
            foreach (HubClient c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    [TestCase(TransportKind.SharedMemory)]
    [TestCase(TransportKind.Fifo)]
    [TestCase(TransportKind.MessageQueue)]
    public async Task Publishing_descriptors_over_a_transport_that_cannot_carry_them_is_refused_before_sending(TransportKind transport)
    {
        using InProcessHub hub = InProcessHub.Start("fdnotsup");
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, transport, "pub"));
        using MemoryFile file = SealedText("x");
        var e = Assert.ThrowsAsync<NotSupportedException>(async () => await pub.PublishAsync("c", "p"u8.ToArray(), [file.Handle]));
        Assert.That(e!.Message, Does.Contain($"the {TransportNames.Of(transport)} transport cannot carry descriptors"));
        Assert.That((await pub.PublishAsync("c", "still fine"u8.ToArray())).ChannelSequence, Is.EqualTo(1UL));
    }

    [Test]
    public async Task More_descriptors_than_the_limit_are_refused_by_the_client_and_by_the_hub()
    {
        using InProcessHub hub = InProcessHub.Start("fdlimit", o => o with { MaxDescriptorsPerMessage = 2 });
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "pub"));
        Assert.That(pub.MaxDescriptorsPerMessage, Is.EqualTo(2));
        using MemoryFile file = SealedText("x");
        var e = Assert.ThrowsAsync<HubException>(async () => await pub.PublishAsync("c", "p"u8.ToArray(), [file.Handle, file.Handle, file.Handle]));
        Assert.That(e!.Code, Is.EqualTo(ProtocolErrorCode.TooManyDescriptors));
        Assert.That(e.Message, Does.Contain("at most 2 descriptors (the hub's --max-fds-per-message); this one has 3"));

        // A client that does not check: the hub refuses the message (non-fatal), closes the descriptors and goes on.
        using RawClient raw = RawClient.ConnectAndHandshake(hub.SocketPath, "raw");
        byte[] frame = RawClient.Frame(FrameType.Publish, 7, "c", "p"u8, FrameHeader.WithDescriptors(FrameFlags.None, 3));
        raw.Socket.SendWithDescriptors(frame, [file.Handle, file.Handle, file.Handle]);
        ReceivedFrame error = raw.ExpectError(ProtocolErrorCode.TooManyDescriptors, fatal: false);
        Assert.That(error.Sequence, Is.EqualTo(7UL));
        Assert.That(error.ErrorReason, Does.Contain("carries 3 descriptors, over the hub's limit (--max-fds-per-message 2)"));
        raw.AssertAlive();
    }

    [Test]
    public void A_Publish_that_declares_descriptors_but_carries_none_is_a_protocol_error()
    {
        using InProcessHub hub = InProcessHub.Start("fdmissing");
        using RawClient raw = RawClient.ConnectAndHandshake(hub.SocketPath, "raw");
        raw.Send(RawClient.Frame(FrameType.Publish, 3, "c", "p"u8, FrameHeader.WithDescriptors(FrameFlags.None, 1)));
        ReceivedFrame error = raw.ExpectError(ProtocolErrorCode.DescriptorsLost, fatal: true);
        Assert.That(error.ErrorReason, Does.Contain("declares 1 descriptors, but none arrived with it"));
    }

    [Test]
    public void A_Publish_whose_descriptor_count_differs_from_what_came_is_a_protocol_error()
    {
        using InProcessHub hub = InProcessHub.Start("fdcount");
        using RawClient raw = RawClient.ConnectAndHandshake(hub.SocketPath, "raw");
        using MemoryFile file = SealedText("x");
        raw.Socket.SendWithDescriptors(RawClient.Frame(FrameType.Publish, 3, "c", "p"u8, FrameHeader.WithDescriptors(FrameFlags.None, 1)),
            [file.Handle, file.Handle]);
        ReceivedFrame error = raw.ExpectError(ProtocolErrorCode.InvalidFlags, fatal: true);
        Assert.That(error.ErrorReason, Does.Contain("declares 1 descriptors, but 2 arrived with it"));
    }

    [Test]
    public async Task Two_local_subscriptions_each_own_their_descriptors()
    {
        using InProcessHub hub = InProcessHub.Start("fdtwo");
        await using HubClient sub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "sub"));
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "pub"));
        await using IAsyncEnumerator<HubMessage> a = (await sub.SubscribeAsync("twice")).GetAsyncEnumerator();
        await using IAsyncEnumerator<HubMessage> b = (await sub.SubscribeAsync("*")).GetAsyncEnumerator();
        using MemoryFile file = SealedText("shared");
        Assert.That((await pub.PublishAsync("twice", "p"u8.ToArray(), [file.Handle])).Delivered, Is.EqualTo(1));
        HubMessage first = await NextAsync(a);
        using HubMessage second = await NextAsync(b);
        Assert.That(first.Descriptors[0].Fd, Is.Not.EqualTo(second.Descriptors[0].Fd));
        first.Dispose();
        Assert.That(ReadAll(second.Descriptors[0]), Is.EqualTo("shared"), "disposing one subscription's message leaves the other's open");
    }

    [Test]
    public async Task A_handler_subscription_gets_the_message_and_its_descriptors_are_closed_after_the_call()
    {
        using InProcessHub hub = InProcessHub.Start("fdhandler");
        await using HubClient sub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "sub"));
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "pub"));
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await sub.SubscribeAsync("h", (channel, sequence, payload) => got.TrySetResult(Encoding.UTF8.GetString(payload)));
        using MemoryFile file = SealedText("x");
        await pub.PublishAsync("h", "handled"u8.ToArray(), [file.Handle]);
        Assert.That(await got.Task.WaitAsync(s_wait), Is.EqualTo("handled"));
    }

    [Test]
    public async Task The_caller_may_dispose_its_handle_right_after_publishing()
    {
        using InProcessHub hub = InProcessHub.Start("fdearly");
        await using HubClient sub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "sub"));
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.Socket, "pub"));
        await using IAsyncEnumerator<HubMessage> messages = (await sub.SubscribeAsync("early")).GetAsyncEnumerator();
        MemoryFile file = SealedText("still open");
        Task<PublishResult> publish = pub.PublishAsync("early", "p"u8.ToArray(), [file.Handle]).AsTask();
        file.Dispose();
        Assert.That((await publish).Delivered, Is.EqualTo(1));
        using HubMessage message = await NextAsync(messages);
        Assert.That(ReadAll(message.Descriptors[0]), Is.EqualTo("still open"));
    }

    [Test]
    public void Descriptors_that_no_message_claims_beyond_the_in_flight_limit_are_a_protocol_error()
    {
        using InProcessHub hub = InProcessHub.Start("fdunclaimed", o => o with { MaxDescriptorsInFlight = 32 });
        using RawClient raw = RawClient.ConnectAndHandshake(hub.SocketPath, "raw");
        using MemoryFile file = SealedText("x");
        SafeHandle[] sixteen = Enumerable.Repeat<SafeHandle>(file.Handle, 16).ToArray();
        byte[] frame = RawClient.Frame(FrameType.Publish, 5, "c", "p"u8, FrameHeader.WithDescriptors(FrameFlags.None, 16));
        // Byte by byte, each with a batch: the frame is never complete, so nothing claims them (one batch per read).
        for (int i = 0; i < 3; i++)
        {
            raw.Socket.SendWithDescriptors(frame.AsSpan(i, 1), sixteen);
        }
        ReceivedFrame error = raw.ExpectError(ProtocolErrorCode.TooManyDescriptors, fatal: true);
        Assert.That(error.ErrorReason, Does.Contain("48 descriptors arrived that no message claims (--max-fds-in-flight 32)"));
    }
}
