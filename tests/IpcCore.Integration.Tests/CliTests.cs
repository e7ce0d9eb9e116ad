using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>The tools' exit codes for usage errors and an unreachable hub.</summary>
[TestFixture]
public sealed class CliTests : HubTest
{
    private protected override string Tag => "cli";

    [TestCase("bad..name")]
    [TestCase("weather.*")]
    [TestCase("sensors.>")]
    [TestCase("spaces are bad")]
    public void PublishToAnInvalidChannel_Exits2(string channel)
    {
        Env.StartHub();
        ChildProcess pub = Env.Publish(channel, "x");
        Assert.That(pub.ExitCode, Is.EqualTo(2), pub.Describe());
        Assert.That(pub.StderrText(), Is.Not.Empty, pub.Describe());
    }

    [Test]
    public void PublishWithNoHub_Exits1AfterTheConnectTimeout_WithAClearMessage()
    {
        ChildProcess pub = Env.Publish("weather", "x", "--connect-timeout", "1");
        Assert.That(pub.ExitCode, Is.EqualTo(1), pub.Describe());
        Assert.That(pub.StderrText(), Does.Contain("hub").IgnoreCase, pub.Describe());
        Assert.That(pub.StdoutLines(), Is.Empty, pub.Describe());
    }

    [Test]
    public void SubscribeToAnInvalidPattern_Exits2()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber(["a.>.b"], waitSubscribed: false);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub with an invalid pattern"), Is.EqualTo(2), sub.Describe());
    }

    [Test]
    public void HubWithAnUnknownOption_Exits2()
    {
        HubProcess hub = Env.StartHubNoWait("--no-such-option");
        Assert.That(hub.Child.WaitForExit(Timeouts.Start, "myipchub --no-such-option"), Is.EqualTo(2), hub.Child.Describe());
        Assert.That(File.Exists(Env.SocketPath), Is.False);
    }

    [Test]
    public void HubWithAnInvalidLogLevel_Exits2()
    {
        HubProcess hub = Env.StartHubNoWait("--log-level", "loudest");
        Assert.That(hub.Child.WaitForExit(Timeouts.Start, "myipchub --log-level loudest"), Is.EqualTo(2), hub.Child.Describe());
    }

    /// <summary>Logs go to stderr: even at debug level, stdout holds only the hub's four status lines.</summary>
    [Test]
    public void HubLogs_GoToStderr_StdoutHasOnlyTheStatusLines()
    {
        HubProcess hub = Env.StartHub("--log-level", "debug");
        ChildProcess sub = Env.StartSubscriber("log", "--count", "1");
        Env.PublishOk("log", "x", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        hub.StopGracefully();
        Assert.That(hub.Child.StdoutLines(), Is.EqualTo(new[]
        {
            $"IPC Hub started (pid {hub.Pid})",
            HubProcess.BackendsLine,
            $"Listening for connections on {Env.SocketPath}",
            "IPC Hub stopped",
        }), hub.Child.Describe());
        Assert.That(hub.Child.StderrText(), Is.Not.Empty, "debug logging should say something on stderr");
    }
}
