using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>Start, stop and crash of the hub: the files it leaves, the lock against a second hub.</summary>
[TestFixture]
public sealed class HubLifecycleTests : HubTest
{
    private protected override string Tag => "life";

    [Test]
    public void SigTerm_RemovesSocketLockAndTheDirectoryTheHubCreated()
    {
        Assert.That(Directory.Exists(Env.Directory), Is.False);
        HubProcess hub = Env.StartHub();
        Assert.That(File.Exists(Env.SocketPath) && File.Exists(Env.LockPath), Is.True, "hub.sock and hub.lock while running");
        ChildProcess sub = Env.StartSubscriber("x", "--no-reconnect");

        hub.StopGracefully(ChildProcess.SigTerm);
        Assert.That(File.Exists(Env.SocketPath), Is.False, "hub.sock after SIGTERM");
        Assert.That(File.Exists(Env.LockPath), Is.False, "hub.lock after SIGTERM");
        Assert.That(Directory.Exists(Env.Directory), Is.False, "the hub created the directory, so it removes it");
        sub.WaitForExit(Timeouts.Message, "the subscriber after the hub said Goodbye");
    }

    [Test]
    public void SigInt_RemovesSocketAndLock_ButLeavesAPreexistingDirectory()
    {
        Directory.CreateDirectory(Env.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        HubProcess hub = Env.StartHub();
        Env.StartSubscriber("x");

        hub.StopGracefully(ChildProcess.SigInt);
        Assert.That(File.Exists(Env.SocketPath), Is.False, "hub.sock after SIGINT");
        Assert.That(File.Exists(Env.LockPath), Is.False, "hub.lock after SIGINT");
        Assert.That(Directory.Exists(Env.Directory), Is.True, "a directory that existed before the hub is left");
        Assert.That(Directory.EnumerateFileSystemEntries(Env.Directory), Is.Empty, "nothing of the hub's is left in it");
    }

    [Test]
    public void SigKill_LeavesAStaleSocket_WhichTheNextHubReplaces()
    {
        HubProcess first = Env.StartHub();
        first.Child.Signal(ChildProcess.SigKill);
        first.Child.WaitForExit(Timeouts.Message, "the killed hub");
        Assert.That(File.Exists(Env.SocketPath), Is.True, "a SIGKILLed hub cannot remove its socket");

        HubProcess second = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("x", "--count", "1");
        Env.PublishOk("x", "through the second hub", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[x] through the second hub" }));

        second.StopGracefully();
        Assert.That(File.Exists(Env.SocketPath) || File.Exists(Env.LockPath), Is.False, "hub.sock/hub.lock after the second hub stopped");
    }

    [Test]
    public void SecondHubOnTheSameDirectory_IsRefusedWithExit1_AndTheFirstKeepsWorking()
    {
        HubProcess first = Env.StartHub();
        HubProcess second = Env.StartHubNoWait();
        int exit = second.Child.WaitForExit(Timeouts.Start, "the second hub");
        Assert.That(exit, Is.EqualTo(1), second.Child.Describe());
        Assert.That(second.Child.StderrText() + second.Child.StdoutText(), Does.Contain("another hub"), second.Child.Describe());

        Assert.That(first.IsAlive, Is.True, first.Child.Describe());
        Assert.That(File.Exists(Env.SocketPath), Is.True, "the refused hub must not remove the first hub's socket");
        ChildProcess sub = Env.StartSubscriber("x", "--count", "1");
        Env.PublishOk("x", "still here", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());

        first.StopGracefully();
    }

    [Test]
    public void DefaultModes_AreOwnerOnly_AndGroupAccessOpensThemToTheGroup()
    {
        const UnixFileMode all = (UnixFileMode)0x1FF;
        HubProcess hub = Env.StartHub();
        Assert.That(File.GetUnixFileMode(Env.Directory) & all, Is.EqualTo((UnixFileMode)0x1C0), "the directory the hub created: 0700");
        Assert.That(File.GetUnixFileMode(Env.SocketPath) & all, Is.EqualTo((UnixFileMode)0x180), "hub.sock: 0600");
        hub.StopGracefully();

        hub = Env.StartHub("--group-access");
        Assert.That(File.GetUnixFileMode(Env.Directory) & all, Is.EqualTo((UnixFileMode)0x1E8), "--group-access directory: 0750");
        Assert.That(File.GetUnixFileMode(Env.SocketPath) & all, Is.EqualTo((UnixFileMode)0x1B0), "--group-access hub.sock: 0660");
        hub.StopGracefully();
    }

    /// <summary>
    /// Shutdown with a subscriber that never reads and a publisher blocked behind it (block policy): the
    /// hub still stops after its --shutdown-timeout, exits 0 and removes its files.
    /// </summary>
    [Test]
    public void SigTerm_WithAStalledSubscriberAndABlockedPublisher_StillStopsCleanly()
    {
        HubProcess hub = Env.StartHub("--max-message-size", "4096", "--queue-messages", "8", "--queue-bytes", "16384",
            "--slow-policy", "block", "--shutdown-timeout", "1");
        ChildProcess watcher = Env.StartSubscriber("jam");
        using RawConnection stalled = RawConnection.ConnectAndHandshake(Env.SocketPath, "it-stalled", receiveBuffer: 4096);
        stalled.SubscribeAndWait(1, "jam");
        ChildProcess pub = Env.StartPublisher("jam");
        string line = new string('j', 2000) + "\n";
        pub.FeedStdinAndClose(System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(line, 600))));
        watcher.WaitForStdoutLines(l => l.StartsWith("[jam] ", StringComparison.Ordinal), 20, Timeouts.Message, "the first messages");
        Thread.Sleep(1500); // by now the subscriber's socket and queue are full and the publisher waits
        Assert.That(pub.HasExited, Is.False, "the publisher should be held back by the block policy\n" + pub.Describe());

        hub.StopGracefully();
        Assert.That(File.Exists(Env.SocketPath) || File.Exists(Env.LockPath), Is.False, "hub.sock/hub.lock after SIGTERM");
    }
}
