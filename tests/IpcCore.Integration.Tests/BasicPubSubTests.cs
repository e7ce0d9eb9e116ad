using System.Globalization;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>The basic flows: one subscriber, many subscribers, channels and wildcard patterns.</summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed class BasicPubSubTests : HubTest
{
    public BasicPubSubTests(string backend) : base(backend)
    {
    }

    private protected override string Tag => "basic";

    /// <summary>
    /// The brief's scenario: hub; <c>myipcsub --channel weather --count 1</c>;
    /// <c>echo "Hello World" | myipcpub --channel weather</c>.
    /// </summary>
    [Test]
    public void HelloWorld_ReachesTheSubscriber_WhichExitsAfterCount()
    {
        HubProcess hub = Env.StartHub();
        var mode = File.GetUnixFileMode(Env.SocketPath);
        Assert.That(mode & (UnixFileMode)0x1FF, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite),
            "hub.sock should have mode 0600");
        Assert.That(File.Exists(Env.LockPath), Is.True, "hub.lock should exist while the hub runs");

        ChildProcess sub = Env.StartSubscriber("weather", "--count", "1");
        ChildProcess pub = Env.StartPublisher("weather");
        pub.WriteStdin("Hello World\n"u8);
        pub.CloseStdin();

        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub"), Is.Zero, pub.Describe());
        Env.AssertPublished(pub, expectedSubscribers: 1);
        Assert.That(pub.StderrText(), Does.Contain("Publishing to 'weather' channel..."), pub.Describe());

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 1"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[weather] Hello World" }), sub.Describe());
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
    }

    [Test]
    public void TwelveSubscribers_AllReceive_AndThePublisherCountsThem()
    {
        Env.StartHub();
        var subs = new List<ChildProcess>();
        // Start them all first (the slow part, in parallel), then wait for each one's subscription.
        for (int i = 0; i < 12; i++)
        {
            subs.Add(Env.StartSubscriber(["weather"], ["--count", "1"], waitSubscribed: false));
        }
        foreach (ChildProcess sub in subs)
        {
            Env.WaitSubscribed(sub, ["weather"]);
        }

        Env.PublishOk("weather", "to all twelve", expectedSubscribers: 12);

        foreach (ChildProcess sub in subs)
        {
            Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 1"), Is.Zero, sub.Describe());
            Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[weather] to all twelve" }), sub.Describe());
        }
    }

    /// <summary>
    /// Each subscriber gets exactly what its patterns match, in publishing order, and a message matched
    /// by two of one subscriber's patterns once. Every subscriber also holds the exact pattern
    /// <c>end</c>; the last message goes there, so a subscriber that exits after its expected count plus
    /// one has seen nothing else in between.
    /// </summary>
    [Test]
    public void ChannelsAndWildcards_EachSubscriberGetsExactlyWhatItsPatternsMatch()
    {
        Env.StartHub();
        var patterns = new Dictionary<string, string[]>
        {
            ["star"] = ["weather.*"],
            ["tail"] = ["sensors.>"],
            ["exact"] = ["weather"],
            ["overlap"] = ["weather.*", "weather.today"],
            ["overlap-tail"] = ["sensors.>", "sensors.*", "sensors.temp"],
            ["middle"] = ["*.temp"],
        };
        (string Channel, string[] Receivers)[] messages =
        [
            ("weather", ["exact"]),
            ("weather.today", ["star", "overlap"]),
            ("weather.tomorrow", ["star", "overlap"]),
            ("weather.a.b", []),
            ("sensors", []),
            ("sensors.temp", ["tail", "overlap-tail", "middle"]),
            ("sensors.a.b", ["tail", "overlap-tail"]),
            ("other", []),
            ("weatherx.today", []),
            ("x.temp", ["middle"]),
        ];
        var subs = new Dictionary<string, ChildProcess>();
        foreach ((string name, string[] p) in patterns)
        {
            int expected = messages.Count(m => m.Receivers.Contains(name)) + 1;
            subs[name] = Env.StartSubscriber([.. p, "end"], ["--count", expected.ToString(CultureInfo.InvariantCulture)], waitSubscribed: false);
        }
        foreach ((string name, ChildProcess sub) in subs)
        {
            Env.WaitSubscribed(sub, [.. patterns[name], "end"]);
        }

        int n = 0;
        foreach ((string channel, string[] receivers) in messages)
        {
            Env.PublishOk(channel, $"m{++n} for {channel}", receivers.Length);
        }
        Env.PublishOk("end", "done", subs.Count);

        foreach ((string name, ChildProcess sub) in subs)
        {
            n = 0;
            var expected = new List<string>();
            foreach ((string channel, string[] receivers) in messages)
            {
                n++;
                if (receivers.Contains(name))
                {
                    expected.Add($"[{channel}] m{n} for {channel}");
                }
            }
            expected.Add("[end] done");
            Assert.That(sub.WaitForExit(Timeouts.Message, $"subscriber '{name}'"), Is.Zero, sub.Describe());
            Assert.That(sub.StdoutLines(), Is.EqualTo(expected), $"subscriber '{name}' ({string.Join(", ", patterns[name])})\n{sub.Describe()}");
        }
    }
}
