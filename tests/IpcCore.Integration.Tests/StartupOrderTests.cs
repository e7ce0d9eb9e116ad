using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>Clients started before the hub wait for it (up to --connect-timeout).</summary>
[TestFixture]
public sealed class StartupOrderTests : HubTest
{
    private protected override string Tag => "early";

    [Test]
    public void SubscriberStartedBeforeTheHub_ConnectsOnceItIsUp_AndReceives()
    {
        ChildProcess sub = Env.StartSubscriber(["early"], ["--count", "1", "--connect-timeout", "10"], waitSubscribed: false);
        Thread.Sleep(1000);
        Assert.That(sub.HasExited, Is.False, "the subscriber should wait for the hub\n" + sub.Describe());
        Env.StartHub();
        Env.WaitSubscribed(sub, ["early"]);

        Env.PublishOk("early", "bird", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 1"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[early] bird" }), sub.Describe());
    }

    [Test]
    public void PublisherStartedBeforeTheHub_PublishesOnceItIsUp()
    {
        ChildProcess pub = Env.StartPublisher("early", "--message", "worm", "--connect-timeout", "10");
        pub.CloseStdin();
        Thread.Sleep(1000);
        Assert.That(pub.HasExited, Is.False, "the publisher should wait for the hub\n" + pub.Describe());
        Env.StartHub();
        pub.WaitForExit(Timeouts.Message, "myipcpub started before the hub");
        Env.AssertPublished(pub, 0);
    }
}
