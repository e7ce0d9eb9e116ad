using System.Globalization;
using System.Text;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// 100,000 messages from two concurrent publishers to one channel reach three subscribers: every
/// subscriber sees sequence numbers 1..100000 without a gap, all three see the same message at each
/// sequence number, and each publisher's messages keep its order.
/// </summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
[NonParallelizable] // the heaviest test: give it the machine
public sealed class OrderingTests : HubTest
{
    public OrderingTests(string backend) : base(backend)
    {
    }

    private const int PerPublisher = 50_000;
    private const int Total = 2 * PerPublisher;
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(180);

    private protected override string Tag => "order";

    [Test]
    public void TwoPublishersThreeSubscribers_100000Messages_NoGapSameOrderEverywhere()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess[] subs = [.. Enumerable.Range(0, 3).Select(_ =>
            Env.StartSubscriber(["order"], ["--format", "json", "--count", Total.ToString(CultureInfo.InvariantCulture)], waitSubscribed: false))];
        foreach (ChildProcess s in subs)
        {
            Env.WaitSubscribed(s, ["order"]);
        }

        ChildProcess[] pubs = [Env.StartPublisher("order"), Env.StartPublisher("order")];
        Task[] feeding = [.. pubs.Select((p, i) => p.FeedStdinAndClose(Lines($"p{i + 1}-")))];

        foreach (ChildProcess p in pubs)
        {
            Assert.That(p.WaitForExit(s_long, "publisher of 50,000 lines"), Is.Zero, p.Describe());
            var published = p.StdoutLines();
            Assert.That(published, Has.Count.EqualTo(PerPublisher), "one Published line per message\n" + p.Describe());
            Assert.That(published.Distinct().ToList(), Is.EqualTo(new[] { "Published (3 subscribers)" }), p.Describe());
        }
        Assert.That(Task.WaitAll(feeding, Timeouts.Message), Is.True);

        var received = new List<string[]>();
        foreach (ChildProcess s in subs)
        {
            Assert.That(s.WaitForExit(s_long, $"subscriber --count {Total}"), Is.Zero, s.Describe());
            var lines = s.StdoutLines();
            Assert.That(lines, Has.Count.EqualTo(Total), s.Describe());
            string[] bySeq = new string[Total];
            for (int i = 0; i < lines.Count; i++)
            {
                JsonMessage m = JsonMessage.Parse(lines[i]);
                if (m.Seq != (ulong)(i + 1) || m.Channel != "order" || m.Text is null || m.Size != Encoding.UTF8.GetByteCount(m.Text))
                {
                    Assert.Fail($"subscriber pid {s.Pid}, line {i + 1}: expected channel 'order' and seq {i + 1}, got {lines[i]}\n" +
                        $"previous line: {(i > 0 ? lines[i - 1] : "(none)")}\n{s.Describe()}");
                }
                bySeq[i] = m.Text!;
            }
            Assert.That(s.StderrText(), Does.Not.Contain("missed"), s.Describe());
            received.Add(bySeq);
        }

        for (int k = 1; k < received.Count; k++)
        {
            int diff = Enumerable.Range(0, Total).FirstOrDefault(i => received[k][i] != received[0][i], -1);
            Assert.That(diff, Is.EqualTo(-1),
                $"subscribers 1 and {k + 1} differ at seq {diff + 1}: '{(diff >= 0 ? received[0][diff] : null)}' vs '{(diff >= 0 ? received[k][diff] : null)}'");
        }
        int switches = Enumerable.Range(1, Total - 1).Count(i => received[0][i][1] != received[0][i - 1][1]);
        TestContext.Out.WriteLine($"the two publishers' messages alternate {switches} times in the channel's order");
        for (int p = 1; p <= 2; p++)
        {
            string prefix = $"p{p}-";
            var own = received[0].Where(t => t.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            Assert.That(own, Has.Count.EqualTo(PerPublisher), $"publisher {p}'s messages");
            for (int i = 0; i < own.Count; i++)
            {
                string expected = Line(prefix, i + 1);
                if (own[i] != expected)
                {
                    Assert.Fail($"publisher {p}'s message #{i + 1} is '{own[i]}', expected '{expected}' (its order must be kept)");
                }
            }
        }
        Assert.That(hub.IsAlive, Is.True);
    }

    private static string Line(string prefix, int n) => prefix + n.ToString("D5", CultureInfo.InvariantCulture);

    private static byte[] Lines(string prefix)
    {
        var text = new StringBuilder(PerPublisher * 10);
        for (int i = 1; i <= PerPublisher; i++)
        {
            text.Append(Line(prefix, i)).Append('\n');
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
