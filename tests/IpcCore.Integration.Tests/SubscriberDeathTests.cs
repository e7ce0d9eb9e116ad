using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>A subscriber killed mid-stream: the hub carries on and counts one subscriber fewer.</summary>
[TestFixture("socket")]
[TestFixture("shm")]
public sealed class SubscriberDeathTests : HubTest
{
    public SubscriberDeathTests(string backend) : base(backend)
    {
    }

    private protected override string Tag => "death";

    [Test]
    public void SubscriberKilledMidStream_HubGoesOn_NextPublishCountsOneFewer()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess[] subs = [.. Enumerable.Range(0, 3).Select(_ => Env.StartSubscriber(["stream"], waitSubscribed: false))];
        foreach (ChildProcess s in subs)
        {
            Env.WaitSubscribed(s, ["stream"]);
        }
        ChildProcess pub = Env.StartPublisher("stream");

        for (int i = 1; i <= 5; i++)
        {
            pub.WriteStdinLine($"m{i}");
            var published = pub.WaitForStdoutLines(l => l.StartsWith("Published", StringComparison.Ordinal), i, Timeouts.Message, $"publish m{i}");
            Assert.That(published[^1], Is.EqualTo("Published (3 subscribers)"), pub.Describe());
        }
        foreach (ChildProcess s in subs)
        {
            s.WaitForStdoutLine(l => l == "[stream] m5", Timeouts.Message, "every subscriber gets m1..m5");
        }

        ChildProcess victim = subs[1];
        int mappedBefore = HubShmMappings(hub.Pid);
        victim.Signal(ChildProcess.SigKill);
        victim.WaitForExit(Timeouts.Message, "the killed subscriber");
        if (Backend == "shm")
        {
            // Its two rings (already unlinked once it mapped them) are unmapped within a second.
            Assert.That(mappedBefore, Is.EqualTo(8), "3 subscribers and 1 publisher, two rings each, in the hub's /proc/pid/maps");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (HubShmMappings(hub.Pid) != mappedBefore - 2 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            Assert.That(HubShmMappings(hub.Pid), Is.EqualTo(mappedBefore - 2), "the hub should release the killed subscriber's rings within a second");
            Assert.That(Directory.GetFiles("/dev/shm", $"ipchub.{hub.Pid}.*"), Is.Empty, "no ring names stay in /dev/shm");
        }
        // The kernel has closed the victim's socket; give the hub's loop a moment to see the hang-up.
        Thread.Sleep(500);

        for (int i = 6; i <= 10; i++)
        {
            pub.WriteStdinLine($"m{i}");
            var published = pub.WaitForStdoutLines(l => l.StartsWith("Published", StringComparison.Ordinal), i, Timeouts.Message, $"publish m{i}");
            Assert.That(published[^1], Is.EqualTo("Published (2 subscribers)"), $"publish m{i} after the kill\n{pub.Describe()}\n{hub.Child.Describe()}");
        }
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub at end of input"), Is.Zero, pub.Describe());

        var expected = Enumerable.Range(1, 10).Select(i => $"[stream] m{i}").ToArray();
        foreach (ChildProcess s in new[] { subs[0], subs[2] })
        {
            s.WaitForStdoutLine(l => l == "[stream] m10", Timeouts.Message, "the survivors get m6..m10");
            Assert.That(s.StdoutLines(), Is.EqualTo(expected), s.Describe());
        }
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
    }

    /// <summary>The hub's mappings of shared-memory rings (one line per ring in /proc/pid/maps).</summary>
    private static int HubShmMappings(int hubPid)
        => File.ReadLines($"/proc/{hubPid}/maps").Count(l => l.Contains($"/dev/shm/ipchub.{hubPid}.", StringComparison.Ordinal));
}
