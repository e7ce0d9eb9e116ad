using System.Text;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>The protocol's happy paths against an in-process hub: handshake, subscriptions, publishing, ordering.</summary>
[TestFixture]
public sealed class HubProtocolTests
{
    [Test]
    public void Hello_IsAnsweredWithWelcome_CarryingIdLimitsPidAndTransport()
    {
        using InProcessHub hub = InProcessHub.Start("welcome", o => o with { MaxMessageSize = 4096 });
        using RawClient first = RawClient.ConnectAndHandshake(hub.SocketPath, "first");
        using RawClient second = RawClient.ConnectAndHandshake(hub.SocketPath, "second");
        Assert.Multiple(() =>
        {
            Assert.That(first.Welcome.ClientId, Is.Not.Zero);
            Assert.That(second.Welcome.ClientId, Is.GreaterThan(first.Welcome.ClientId));
            Assert.That(first.Welcome.MaxMessageSize, Is.EqualTo(4096));
            Assert.That(first.Welcome.HubPid, Is.EqualTo(Environment.ProcessId));
            Assert.That(first.Welcome.Transport, Is.EqualTo(TransportKind.Socket));
        });
        Assert.That(hub.Log.Contains(201, $"client {first.Welcome.ClientId} 'first' connected (pid {Environment.ProcessId}, uid "), Is.True,
            string.Join("\n", hub.Log.Entries));
    }

    [Test]
    public void Publish_ReachesEverySubscriber_WithPerChannelSequences_AndIsAcked()
    {
        using InProcessHub hub = InProcessHub.Start("pubsub");
        using RawClient sub1 = RawClient.ConnectAndHandshake(hub.SocketPath, "sub1");
        using RawClient sub2 = RawClient.ConnectAndHandshake(hub.SocketPath, "sub2");
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        Assert.That(sub1.Subscribe("weather", 1).Delivered, Is.EqualTo(1), "Ack.Delivered = subscriptions held");
        Assert.That(sub1.Subscribe("news", 2).Delivered, Is.EqualTo(2));
        Assert.That(sub2.Subscribe("weather", 1).Delivered, Is.EqualTo(1));

        AckPayload a1 = pub.PublishAndAck("weather", "sunny", 10);
        AckPayload a2 = pub.PublishAndAck("news", "hello", 11);
        AckPayload a3 = pub.PublishAndAck("weather", "rain", 12);
        AckPayload a4 = pub.PublishAndAck("nobody", "void", 13);
        Assert.Multiple(() =>
        {
            Assert.That(a1, Is.EqualTo(new AckPayload(2, 0, 1)));
            Assert.That(a2, Is.EqualTo(new AckPayload(1, 0, 1)), "sequences are per channel");
            Assert.That(a3, Is.EqualTo(new AckPayload(2, 0, 2)));
            Assert.That(a4, Is.EqualTo(new AckPayload(0, 0, 1)));
        });

        ReceivedFrame d1 = sub1.Expect(FrameType.Data);
        ReceivedFrame d2 = sub1.Expect(FrameType.Data);
        ReceivedFrame d3 = sub1.Expect(FrameType.Data);
        Assert.Multiple(() =>
        {
            Assert.That((d1.Channel, d1.Sequence, d1.Text), Is.EqualTo(("weather", 1UL, "sunny")));
            Assert.That((d2.Channel, d2.Sequence, d2.Text), Is.EqualTo(("news", 1UL, "hello")));
            Assert.That((d3.Channel, d3.Sequence, d3.Text), Is.EqualTo(("weather", 2UL, "rain")));
        });
        Assert.That(sub2.Expect(FrameType.Data).Text, Is.EqualTo("sunny"));
        Assert.That(sub2.Expect(FrameType.Data).Text, Is.EqualTo("rain"));
    }

    [Test]
    public void OverlappingPatterns_DeliverOncePerClient()
    {
        using InProcessHub hub = InProcessHub.Start("dedupe");
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub");
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        sub.Subscribe("sensors.>", 1);
        sub.Subscribe("sensors.*", 2);
        sub.Subscribe("sensors.temp", 3);
        Assert.That(pub.PublishAndAck("sensors.temp", "21", 1), Is.EqualTo(new AckPayload(1, 0, 1)));
        Assert.That(pub.PublishAndAck("sensors.a.b", "deep", 2), Is.EqualTo(new AckPayload(1, 0, 1)));
        Assert.That(sub.Expect(FrameType.Data).Text, Is.EqualTo("21"));
        Assert.That(sub.Expect(FrameType.Data).Text, Is.EqualTo("deep"));
        Assert.That(sub.TryReadFrame(TimeSpan.FromMilliseconds(200), out ReceivedFrame? extra), Is.False, $"a duplicate arrived: {extra}");
    }

    [Test]
    public void NoAck_Publish_GetsNoAck_ButIsDelivered_AndAPublisherMaySubscribeToItself()
    {
        using InProcessHub hub = InProcessHub.Start("noack");
        using RawClient client = RawClient.ConnectAndHandshake(hub.SocketPath, "self");
        client.Subscribe("loop", 1);
        client.Publish("loop", "one"u8, 2, noAck: true);
        client.Publish("loop", "two"u8, 3);
        ReceivedFrame first = client.Expect(FrameType.Data);
        ReceivedFrame second = client.Expect(FrameType.Data);
        AckPayload ack = client.ExpectAck(3);
        Assert.Multiple(() =>
        {
            Assert.That((first.Text, first.Sequence), Is.EqualTo(("one", 1UL)));
            Assert.That((second.Text, second.Sequence), Is.EqualTo(("two", 2UL)));
            Assert.That(ack, Is.EqualTo(new AckPayload(1, 0, 2)));
        });
    }

    [Test]
    public void Unsubscribe_IsAcked_OrRefusedWithNotSubscribed_AndSubscribingTwiceIsANoOp()
    {
        using InProcessHub hub = InProcessHub.Start("unsub");
        using RawClient client = RawClient.ConnectAndHandshake(hub.SocketPath, "c");
        Assert.That(client.Subscribe("a.*", 1).Delivered, Is.EqualTo(1));
        Assert.That(client.Subscribe("a.*", 2).Delivered, Is.EqualTo(1), "the same pattern twice is still one subscription");
        client.SendFrame(FrameType.Unsubscribe, 3, "a.b", default);
        ReceivedFrame error = client.ExpectError(ProtocolErrorCode.NotSubscribed, fatal: false);
        Assert.That(error.Sequence, Is.EqualTo(3UL));
        client.SendFrame(FrameType.Unsubscribe, 4, "a.*", default);
        Assert.That(client.ExpectAck(4).Delivered, Is.Zero);
        client.AssertAlive();
    }

    [Test]
    public void Ping_IsAnsweredWithPong_WithTheSameSequence()
    {
        using InProcessHub hub = InProcessHub.Start("ping");
        using RawClient client = RawClient.ConnectAndHandshake(hub.SocketPath, "c");
        client.AssertAlive(12345);
    }

    [Test]
    public void Goodbye_ClosesTheConnectionCleanly()
    {
        using InProcessHub hub = InProcessHub.Start("goodbye");
        using RawClient client = RawClient.ConnectAndHandshake(hub.SocketPath, "c");
        client.SendFrame(FrameType.Goodbye, 0, string.Empty, "done"u8);
        Assert.That(client.ReadUntilClosed(), Is.Empty);
        Assert.That(hub.Log.Contains(202, "said goodbye"), Is.True);
    }

    [Test]
    public void PipelinedFrames_InOneWrite_AreAllHandled_InOrder()
    {
        using InProcessHub hub = InProcessHub.Start("pipeline");
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub");
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        sub.Subscribe("p", 1);
        using var batch = new MemoryStream();
        for (ulong i = 1; i <= 2000; i++)
        {
            batch.Write(RawClient.Frame(FrameType.Publish, i, "p", Encoding.ASCII.GetBytes($"m{i}")));
        }
        pub.Send(batch.ToArray());
        for (ulong i = 1; i <= 2000; i++)
        {
            Assert.That(pub.ExpectAck(i), Is.EqualTo(new AckPayload(1, 0, i)));
            ReceivedFrame data = sub.Expect(FrameType.Data);
            Assert.That((data.Sequence, data.Text), Is.EqualTo((i, $"m{i}")));
        }
    }

    [Test]
    public void ConcurrentPublishers_ToOneChannel_AreSeenInOneOrderByEverySubscriber()
    {
        using InProcessHub hub = InProcessHub.Start("order", o => o with { MaxMessageSize = 4096, QueueBytes = 16384, QueueMessages = 8 });
        using RawClient sub1 = RawClient.ConnectAndHandshake(hub.SocketPath, "sub1");
        using RawClient sub2 = RawClient.ConnectAndHandshake(hub.SocketPath, "sub2");
        sub1.Subscribe("o", 1);
        sub2.Subscribe("o", 1);
        const int PerPublisher = 500;
        var publishers = Enumerable.Range(0, 3).Select(p => Background.Run(() =>
        {
            using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, $"pub{p}");
            for (int i = 0; i < PerPublisher; i++)
            {
                pub.Publish("o", Encoding.ASCII.GetBytes($"{p}:{i}"), (ulong)i + 1, noAck: true);
            }
            pub.AssertAlive(); // everything before it was handled
        })).ToArray();
        var seen1 = new List<(ulong, string)>();
        var seen2 = new List<(ulong, string)>();
        for (int i = 0; i < 3 * PerPublisher; i++)
        {
            ReceivedFrame a = sub1.Expect(FrameType.Data);
            ReceivedFrame b = sub2.Expect(FrameType.Data);
            seen1.Add((a.Sequence, a.Text));
            seen2.Add((b.Sequence, b.Text));
        }
        Task.WaitAll(publishers);
        Assert.That(seen1, Is.EqualTo(seen2));
        Assert.That(seen1.Select(s => s.Item1), Is.EqualTo(Enumerable.Range(1, 3 * PerPublisher).Select(i => (ulong)i)));
        for (int p = 0; p < 3; p++)
        {
            Assert.That(seen1.Where(s => s.Item2.StartsWith($"{p}:", StringComparison.Ordinal)).Select(s => s.Item2),
                Is.EqualTo(Enumerable.Range(0, PerPublisher).Select(i => $"{p}:{i}")), "each publisher's messages keep their order");
        }
    }
}
