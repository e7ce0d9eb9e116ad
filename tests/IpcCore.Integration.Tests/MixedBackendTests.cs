using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>Clients of different transports on one hub: routing does not care how the bytes move.</summary>
[TestFixture]
public sealed class MixedBackendTests : HubTest
{
    private protected override string Tag => "mixed";

    [TestCase("shm")]
    [TestCase("socket")]
    public void OnePublisher_ReachesSocketAndShmSubscribers(string publisherBackend)
    {
        Env.StartHub();
        Env.SubscriberBackend = "socket";
        ChildProcess viaSocket = Env.StartSubscriber(["mixed.>"], ["--count", "3"], waitSubscribed: false);
        Env.SubscriberBackend = "shm";
        ChildProcess viaShm = Env.StartSubscriber(["mixed.>"], ["--count", "3"], waitSubscribed: false);
        HubTestEnvironment.WaitSubscribed(viaSocket, ["mixed.>"], "socket");
        HubTestEnvironment.WaitSubscribed(viaShm, ["mixed.>"], "shm");

        Env.PublisherBackend = publisherBackend;
        ChildProcess pub = Env.StartPublisher("mixed.a");
        pub.WriteStdin("one\ntwo\nthree\n"u8);
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub"), Is.Zero, pub.Describe());
        Env.AssertPublished(pub, expectedSubscribers: 2, messages: 3);

        string[] expected = ["[mixed.a] one", "[mixed.a] two", "[mixed.a] three"];
        foreach (ChildProcess sub in new[] { viaSocket, viaShm })
        {
            Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 3"), Is.Zero, sub.Describe());
            Assert.That(sub.StdoutLines(), Is.EqualTo(expected), sub.Describe());
        }
    }
}

/// <summary>The hub's shared-memory rings woken through named POSIX semaphores instead of futexes.</summary>
[TestFixture]
public sealed class SharedMemorySemaphoreTests : HubTest
{
    private protected override string Tag => "shmsem";

    [Test]
    public void SemaphoreWake_ShmPublisherReachesShmSubscriber()
    {
        HubProcess hub = Env.StartHub("--shm-wake", "semaphore");
        Env.SubscriberBackend = "shm";
        ChildProcess sub = Env.StartSubscriber(["sem.>"], ["--count", "3"], waitSubscribed: false);
        HubTestEnvironment.WaitSubscribed(sub, ["sem.>"], "shm");
        // Proof that the option is used, not ignored: the subscriber has the hub's wake semaphores mapped
        // (sem_open maps /dev/shm/sem.<name>; the entries stay in maps after the hub unlinks the names).
        string maps = File.ReadAllText($"/proc/{sub.Pid}/maps");
        Assert.That(maps, Does.Contain($"/dev/shm/sem.ipchub.{hub.Pid}."), "a shm client of a --shm-wake semaphore hub maps its semaphores");

        Env.PublisherBackend = "shm";
        ChildProcess pub = Env.StartPublisher("sem.a");
        pub.WriteStdin("one\ntwo\nthree\n"u8);
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub"), Is.Zero, pub.Describe());
        Env.AssertPublished(pub, expectedSubscribers: 1, messages: 3);

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 3"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[sem.a] one", "[sem.a] two", "[sem.a] three" }), sub.Describe());
        string prefix = $"sem.ipchub.{hub.Pid}.";
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (Directory.GetFiles("/dev/shm", prefix + "*").Length > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.That(Directory.GetFiles("/dev/shm", prefix + "*"), Is.Empty, "the hub unlinks the semaphore names");
    }
}

/// <summary>A hub killed with SIGKILL while a shared-memory client was in its handshake leaves ring objects; the next hub removes them.</summary>
[TestFixture]
public sealed class SharedMemoryStaleTests : HubTest
{
    private protected override string Tag => "shmstale";

    [Test]
    public void HubKilled_StaleRingObjectsAreRemovedByTheNextHub()
    {
        HubProcess first = Env.StartHub();
        Env.SubscriberBackend = "shm";
        ChildProcess sub = Env.StartSubscriber("news");
        first.Child.Signal(ChildProcess.SigKill);
        first.Child.WaitForExit(Timeouts.Message, "the killed hub");
        // What a hub killed between creating a client's rings and the client's first frame leaves behind.
        string[] stale = [$"/dev/shm/ipchub.{first.Pid}.7.c2h", $"/dev/shm/ipchub.{first.Pid}.7.h2c"];
        foreach (string path in stale)
        {
            File.WriteAllBytes(path, new byte[4096]);
        }

        HubProcess second = Env.StartHub();
        foreach (string path in stale)
        {
            Assert.That(File.Exists(path), Is.False, $"the new hub should remove {path}\n{second.Child.Describe()}");
        }
        sub.WaitForStderrLine(l => l.Contains("Reconnected; resubscribed to 1 pattern(s)", StringComparison.Ordinal), Timeouts.Message,
            "the shm subscriber should reconnect to the new hub");
        Env.PublishOk("news", "after the crash", 1);
        sub.WaitForStdoutLine(l => l == "[news] after the crash", Timeouts.Message, "the message after the crash");
    }
}
