using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>The hub's limits (--max-clients, --max-subscriptions, --max-channels) and the non-fatal refusals.</summary>
[TestFixture]
public sealed class LimitsTests : HubTest
{
    private protected override string Tag => "limits";

    [Test]
    public void MaxClients_TheNextClientGetsFatalTooManyClients_AndASlotFreesWhenOneLeaves()
    {
        Env.StartHub("--max-clients", "2");
        using RawConnection first = RawConnection.ConnectAndHandshake(Env.SocketPath, "it-1");
        RawConnection second = RawConnection.ConnectAndHandshake(Env.SocketPath, "it-2");
        using (RawConnection third = RawConnection.Connect(Env.SocketPath))
        {
            third.SendHello("it-3");
            List<ReceivedFrame> frames = third.ReadUntilClosed(Timeouts.Message);
            Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
            Assert.That(frames[0].ErrorCode == ProtocolErrorCode.TooManyClients && frames[0].IsFatal, Is.True, frames[0].ToString());
        }

        second.Dispose();
        // The hub frees the slot once it has seen the hang-up; retry for a while.
        var deadline = DateTime.UtcNow + Timeouts.Message;
        while (true)
        {
            using RawConnection again = RawConnection.Connect(Env.SocketPath);
            again.SendHello("it-again");
            ReceivedFrame? answer = again.ReadFrame(Timeouts.Message);
            if (answer?.Type == FrameType.Welcome)
            {
                break;
            }
            Assert.That(answer?.ErrorCode, Is.EqualTo(ProtocolErrorCode.TooManyClients), answer?.ToString() ?? "closed");
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the slot of the client that left was never freed");
            Thread.Sleep(100);
        }
    }

    [Test]
    public void MaxSubscriptions_IsANonFatalRefusal_AndUnsubscribeOfAPatternNotHeldToo()
    {
        Env.StartHub("--max-subscriptions", "2");
        using RawConnection raw = RawConnection.ConnectAndHandshake(Env.SocketPath);
        raw.SubscribeAndWait(1, "a");
        raw.SubscribeAndWait(2, "b.*");
        raw.Subscribe(3, "c");
        ReceivedFrame? refused = raw.ReadFrame(Timeouts.Message);
        Assert.That(refused?.Type, Is.EqualTo(FrameType.Error), refused?.ToString() ?? "closed");
        Assert.That(refused!.ErrorCode, Is.EqualTo(ProtocolErrorCode.TooManySubscriptions), refused.ToString());
        Assert.That(refused.IsFatal, Is.False, refused.ToString());
        Assert.That(refused.Sequence, Is.EqualTo(3UL), "the Error names the request");

        // Subscribing again to a held pattern is a no-op that is still acked.
        raw.SubscribeAndWait(4, "a");

        raw.SendFrame(FrameType.Unsubscribe, FrameFlags.None, 5, "never.held", default);
        ReceivedFrame? notHeld = raw.ReadFrame(Timeouts.Message);
        Assert.That(notHeld?.ErrorCode, Is.EqualTo(ProtocolErrorCode.NotSubscribed), notHeld?.ToString() ?? "closed");
        Assert.That(notHeld!.IsFatal, Is.False);

        raw.SendFrame(FrameType.Unsubscribe, FrameFlags.None, 6, "a", default);
        ReceivedFrame? ack = raw.ReadFrame(Timeouts.Message);
        Assert.That(ack?.Type == FrameType.Ack && ack.Sequence == 6 && ack.Ack.Delivered == 1, Is.True, ack?.ToString() ?? "closed");
        raw.SubscribeAndWait(7, "c");
    }

    [Test]
    public void MaxChannels_PublishToOneChannelTooMany_IsANonFatalRefusal()
    {
        Env.StartHub("--max-channels", "2");
        using RawConnection raw = RawConnection.ConnectAndHandshake(Env.SocketPath);
        raw.Publish(1, "one", "1"u8);
        raw.Publish(2, "two", "2"u8);
        raw.Publish(3, "three", "3"u8);
        raw.Publish(4, "one", "4"u8);
        ReceivedFrame?[] answers = [.. Enumerable.Range(0, 4).Select(_ => raw.ReadFrame(Timeouts.Message))];
        Assert.That(answers[0]?.Type == FrameType.Ack && answers[1]?.Type == FrameType.Ack, Is.True, string.Join(", ", answers));
        Assert.That(answers[2]?.ErrorCode, Is.EqualTo(ProtocolErrorCode.TooManyChannels), string.Join(", ", answers));
        Assert.That(answers[2]!.IsFatal, Is.False);
        Assert.That(answers[2]!.Sequence, Is.EqualTo(3UL));
        Assert.That(answers[3]?.Type == FrameType.Ack && answers[3]!.Ack.ChannelSequence == 2, Is.True,
            "a known channel still works and goes on with its numbering: " + string.Join(", ", answers));

        ChildProcess pub = Env.Publish("four", "x");
        Assert.That(pub.ExitCode, Is.EqualTo(1), "myipcpub exits 1 when its message is refused\n" + pub.Describe());
        Assert.That(pub.StderrText(), Does.Contain("myipcpub: publish to 'four' failed: "), pub.Describe());
    }
}
