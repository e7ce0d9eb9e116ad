using System.Text;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// A publisher killed (SIGKILL) in the middle of a fast stream: the hub carries on, the subscriber has
/// only whole messages, in order and without a gap, and the hub releases everything the publisher had
/// (on shm: a record the publisher was writing is never visible, because the ring's tail was not published).
/// </summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed partial class PublisherDeathTests : HubTest
{
    private const int Lines = 400_000;
    private const string Filler = "................................................................";

    public PublisherDeathTests(string backend) : base(backend)
    {
    }

    private protected override string Tag => "pubdeath";

    [GeneratedRegex(@"^\[flood\] p-(\d{6})-\.{64}$")]
    private static partial Regex WholeMessage();

    [Test]
    public void PublisherKilledMidStream_SubscriberHasOnlyWholeMessages_AndTheHubGoesOn()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("flood");

        var input = new StringBuilder(Lines * 80);
        for (int i = 1; i <= Lines; i++)
        {
            input.Append("p-").Append(i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).Append('-').Append(Filler).Append('\n');
        }
        ChildProcess pub = Env.StartPublisher("flood", "--no-ack");
        Task feeding = pub.FeedStdinAndClose(Encoding.ASCII.GetBytes(input.ToString()));

        // Kill it once the stream is well under way (and long before its input ends).
        sub.WaitForStdoutLines(l => l.StartsWith("[flood] ", StringComparison.Ordinal), 2000, Timeouts.Message, "the stream to start");
        pub.Signal(ChildProcess.SigKill);
        pub.WaitForExit(Timeouts.Message, "the killed publisher");
        feeding.Wait(Timeouts.Message);

        if (Backend == "shm")
        {
            // Only the subscriber's two rings stay mapped in the hub.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (HubShmMappings(hub.Pid) != 2 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            Assert.That(HubShmMappings(hub.Pid), Is.EqualTo(2), "the hub should release the killed publisher's rings within a second");
        }

        // The hub goes on: a new publisher reaches the subscriber, after everything the dead one got routed.
        Env.PublishOk("flood", "after the crash", 1);
        sub.WaitForStdoutLine(l => l == "[flood] after the crash", Timeouts.Message, "the message after the crash");
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());

        IReadOnlyList<string> lines = sub.StdoutLines();
        Assert.That(lines[^1], Is.EqualTo("[flood] after the crash"));
        int expected = 1;
        foreach (string line in lines.Take(lines.Count - 1))
        {
            Match m = WholeMessage().Match(line);
            Assert.That(m.Success, Is.True, $"a torn or foreign message reached the subscriber: '{line}'");
            Assert.That(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(expected),
                "the dead publisher's messages arrive in order and without a gap");
            expected++;
        }
        Assert.That(expected - 1, Is.GreaterThanOrEqualTo(2000).And.LessThan(Lines), "the publisher died mid-stream");
    }

    private static int HubShmMappings(int hubPid)
        => File.ReadLines($"/proc/{hubPid}/maps").Count(l => l.Contains($"/dev/shm/ipchub.{hubPid}.", StringComparison.Ordinal));
}
