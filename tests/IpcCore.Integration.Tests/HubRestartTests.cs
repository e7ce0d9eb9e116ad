using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>A hub restarted under connected clients.</summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed class HubRestartTests : HubTest
{
    public HubRestartTests(string backend) : base(backend)
    {
    }

    private protected override string Tag => "restart";

    [Test]
    public void HubRestarted_SubscriberReconnectsResubscribes_AndReceivesTheNextMessages()
    {
        HubProcess first = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber(["news", "alerts.>"]);
        Env.PublishOk("news", "before 1", 1);
        Env.PublishOk("alerts.fire", "before 2", 1);
        sub.WaitForStdoutLine(l => l == "[alerts.fire] before 2", Timeouts.Message, "messages before the restart");

        first.StopGracefully();
        sub.WaitForStderrLine(l => l.Contains("Reconnecting to hub...", StringComparison.Ordinal), Timeouts.Message,
            "the subscriber should notice the hub went away");
        Assert.That(sub.HasExited, Is.False, "the subscriber (reconnect is the default) should stay up\n" + sub.Describe());

        Env.StartHub();
        sub.WaitForStderrLine(l => l.Contains("Reconnected; resubscribed to 2 pattern(s)", StringComparison.Ordinal), Timeouts.Message,
            "the subscriber should reconnect and resubscribe to the new hub");

        Env.PublishOk("news", "after 1", 1);
        Env.PublishOk("alerts.flood", "after 2", 1);
        sub.WaitForStdoutLine(l => l == "[alerts.flood] after 2", Timeouts.Message, "messages after the restart");
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[news] before 1", "[alerts.fire] before 2", "[news] after 1", "[alerts.flood] after 2" }),
            sub.Describe());
        // The new hub numbers its channels from 1 again: that is a new hub, not lost messages.
        Assert.That(sub.StderrLines().Where(l => l.Contains("missed", StringComparison.Ordinal)), Is.Empty,
            "a hub restart is not a gap\n" + sub.Describe());
    }

    [Test]
    public void HubKilled_SubscriberReconnectsToTheNextHub()
    {
        HubProcess first = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("news");
        first.Child.Signal(ChildProcess.SigKill);
        first.Child.WaitForExit(Timeouts.Message, "the killed hub");
        sub.WaitForStderrLine(l => l.Contains("Reconnecting to hub...", StringComparison.Ordinal), Timeouts.Message,
            "the subscriber should notice the hub died");

        Env.StartHub();
        sub.WaitForStderrLine(l => l.Contains("Reconnected; resubscribed to 1 pattern(s)", StringComparison.Ordinal), Timeouts.Message,
            "the subscriber should reconnect to the new hub");
        Env.PublishOk("news", "after the crash", 1);
        sub.WaitForStdoutLine(l => l == "[news] after the crash", Timeouts.Message, "the message after the crash");
    }

    [Test]
    public void HubStopped_SubscriberWithNoReconnect_Exits()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("news", "--no-reconnect");
        hub.StopGracefully();
        sub.WaitForExit(Timeouts.Message, "myipcsub --no-reconnect after the hub stopped");
        Assert.That(sub.StderrText(), Does.Not.Contain("Reconnecting"), sub.Describe());
    }
}
