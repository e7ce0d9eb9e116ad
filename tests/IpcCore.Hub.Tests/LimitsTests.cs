using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>The configurable limits answer with clear errors: fatal for clients, non-fatal for channels and subscriptions.</summary>
[TestFixture]
public sealed class LimitsTests
{
    [Test]
    public void TooManyClients_IsFatalForTheNewcomer_Only()
    {
        using InProcessHub hub = InProcessHub.Start("clients", o => o with { MaxClients = 2 });
        using RawClient a = RawClient.ConnectAndHandshake(hub.SocketPath, "a");
        using RawClient b = RawClient.ConnectAndHandshake(hub.SocketPath, "b");
        using (RawClient c = RawClient.Connect(hub.SocketPath))
        {
            c.SendHello("c");
            List<ReceivedFrame> frames = c.ReadUntilClosed();
            Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
            Assert.That(frames[0].ErrorCode, Is.EqualTo(ProtocolErrorCode.TooManyClients), frames[0].ToString());
            Assert.That(frames[0].IsFatal, Is.True);
            Assert.That(frames[0].ErrorReason, Does.Contain("--max-clients 2"));
        }
        a.AssertAlive();
        b.Dispose();
        // A place is free again once a client leaves.
        RawClient? d = null;
        for (int attempt = 0; attempt < 50 && d is null; attempt++)
        {
            RawClient candidate = RawClient.Connect(hub.SocketPath);
            candidate.SendHello("d");
            ReceivedFrame? f = candidate.ReadFrame();
            if (f?.Type == FrameType.Welcome)
            {
                d = candidate;
            }
            else
            {
                candidate.Dispose();
                Thread.Sleep(20);
            }
        }
        Assert.That(d, Is.Not.Null, "a freed place can be taken");
        d!.Dispose();
    }

    [Test]
    public void TooManyChannels_IsANonFatalErrorForThatPublish()
    {
        using InProcessHub hub = InProcessHub.Start("channels", o => o with { MaxChannels = 2 });
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        pub.PublishAndAck("one", "1", 1);
        pub.PublishAndAck("two", "2", 2);
        pub.Publish("three", "3"u8, 3);
        ReceivedFrame error = pub.ExpectError(ProtocolErrorCode.TooManyChannels, fatal: false);
        Assert.That(error.Sequence, Is.EqualTo(3UL));
        Assert.That(error.ErrorReason, Does.Contain("--max-channels 2"));
        Assert.That(pub.PublishAndAck("one", "again", 4).ChannelSequence, Is.EqualTo(2UL), "existing channels keep working");
    }

    [Test]
    public void TooManySubscriptions_IsANonFatalErrorForThatSubscribe()
    {
        using InProcessHub hub = InProcessHub.Start("subs", o => o with { MaxSubscriptionsPerClient = 2 });
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub");
        sub.Subscribe("a", 1);
        sub.Subscribe("b.*", 2);
        sub.SendFrame(FrameType.Subscribe, 3, "c.>", default);
        ReceivedFrame error = sub.ExpectError(ProtocolErrorCode.TooManySubscriptions, fatal: false);
        Assert.That(error.Sequence, Is.EqualTo(3UL));
        Assert.That(error.ErrorReason, Does.Contain("--max-subscriptions 2"));
        Assert.That(sub.Subscribe("a", 4).Delivered, Is.EqualTo(2), "re-subscribing a held pattern is fine at the limit");
    }

    [Test]
    public void MaxMessageSize_IsEnforcedExactly()
    {
        using InProcessHub hub = InProcessHub.Start("maxsize", o => o with { MaxMessageSize = 100 });
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        pub.Publish("m", new byte[100], 1);
        Assert.That(pub.ExpectAck(1).ChannelSequence, Is.EqualTo(1UL));
        pub.Publish("m", new byte[101], 2);
        ReceivedFrame error = pub.ExpectError(ProtocolErrorCode.PayloadTooLarge, fatal: false);
        Assert.That(error.Sequence, Is.EqualTo(2UL));
        Assert.That(error.ErrorReason, Does.Contain("101 bytes").And.Contain("100 bytes"));
        pub.Publish("m", new byte[1], 3);
        Assert.That(pub.ExpectAck(3).ChannelSequence, Is.EqualTo(2UL));
    }
}
