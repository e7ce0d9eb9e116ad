using System.Diagnostics;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// A subscriber killed (SIGKILL) mid-stream: the hub carries on, counts one subscriber fewer, and releases
/// everything the dead client had within a second or so: its control socket, its FIFOs, message queues,
/// shared-memory rings and doorbell, or pipes (counted in the hub's /proc/pid/fd and /proc/pid/maps).
/// </summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed class SubscriberDeathTests : HubTest
{
    /// <summary>A failure deadline for the release (the hub normally needs a few milliseconds).</summary>
    private static readonly TimeSpan s_release = TimeSpan.FromSeconds(3);

    public SubscriberDeathTests(string backend) : base(backend)
    {
    }

    private protected override string Tag => "death";

    [Test]
    public void SubscriberKilledMidStream_HubGoesOn_NextPublishCountsOneFewer_AndReleasesItsObjects()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess[] survivors = [Env.StartSubscriber(["stream"], waitSubscribed: false), Env.StartSubscriber(["stream"], waitSubscribed: false)];
        foreach (ChildProcess s in survivors)
        {
            Env.WaitSubscribed(s, ["stream"]);
        }
        ChildProcess pub = Env.StartPublisher("stream");
        pub.WaitForStderrLine(l => l.Contains("Publishing to 'stream' channel...", StringComparison.Ordinal), Timeouts.Start, "the publisher connects");

        // What the hub holds without the victim, then with it: the difference is the victim's.
        int countBefore = hub.DescriptorCount();
        int mapsBefore = hub.ShmRingMappings();
        Dictionary<int, string> before = hub.Descriptors();
        ChildProcess victim = Env.StartSubscriber("stream");
        Dictionary<int, string> with = hub.Descriptors();
        var victims = with.Where(d => !before.TryGetValue(d.Key, out string? t) || t != d.Value).ToList();
        string shown = string.Join(", ", victims.Select(d => $"{d.Key} -> {d.Value}"));
        TestContext.Out.WriteLine($"{Backend}: the hub's descriptors for the victim: {shown}");
        AssertVictimsObjects(hub, victim, victims, shown, mapsBefore);

        for (int i = 1; i <= 5; i++)
        {
            pub.WriteStdinLine($"m{i}");
            var published = pub.WaitForStdoutLines(l => l.StartsWith("Published", StringComparison.Ordinal), i, Timeouts.Message, $"publish m{i}");
            Assert.That(published[^1], Is.EqualTo("Published (3 subscribers)"), pub.Describe());
        }
        foreach (ChildProcess s in survivors.Append(victim))
        {
            s.WaitForStdoutLine(l => l == "[stream] m5", Timeouts.Message, "every subscriber gets m1..m5");
        }

        victim.Signal(ChildProcess.SigKill);
        victim.WaitForExit(Timeouts.Message, "the killed subscriber");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_release && !Released(hub, victims, countBefore, mapsBefore))
        {
            Thread.Sleep(10);
        }
        TimeSpan took = clock.Elapsed;
        TestContext.Out.WriteLine($"{Backend}: the hub released the killed subscriber's objects after {took.TotalMilliseconds:0} ms");
        var left = hub.Descriptors().Where(d => victims.Any(v => v.Key == d.Key && v.Value == d.Value)).Select(d => $"{d.Key} -> {d.Value}").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(left, Is.Empty, $"the hub still holds the killed subscriber's descriptors\n{hub.Child.Describe()}");
            Assert.That(hub.DescriptorCount(), Is.EqualTo(countBefore), $"the hub's descriptor count returns to what it was before the victim came; " +
                $"new since then: {Diff(before, hub.Descriptors())}; gone: {Diff(hub.Descriptors(), before)}\n{hub.Child.Describe()}");
            Assert.That(hub.ShmRingMappings(), Is.EqualTo(mapsBefore), "the hub unmaps the killed subscriber's rings");
            Assert.That(NamedObjects(hub), Is.Empty, "no name of the hub's client objects is left");
        });
        hub.Child.WaitForStderrLine(l => l.Contains($"'myipcsub-{victim.Pid}' disconnected", StringComparison.Ordinal), Timeouts.Message,
            "the hub logs the victim's disconnect");

        for (int i = 6; i <= 10; i++)
        {
            pub.WriteStdinLine($"m{i}");
            var published = pub.WaitForStdoutLines(l => l.StartsWith("Published", StringComparison.Ordinal), i, Timeouts.Message, $"publish m{i}");
            Assert.That(published[^1], Is.EqualTo("Published (2 subscribers)"), $"publish m{i} after the kill\n{pub.Describe()}\n{hub.Child.Describe()}");
        }
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub at end of input"), Is.Zero, pub.Describe());

        var expected = Enumerable.Range(1, 10).Select(i => $"[stream] m{i}").ToArray();
        foreach (ChildProcess s in survivors)
        {
            s.WaitForStdoutLine(l => l == "[stream] m10", Timeouts.Message, "the survivors get m6..m10");
            Assert.That(s.StdoutLines(), Is.EqualTo(expected), s.Describe());
        }
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
    }

    /// <summary>
    /// A client that leaves in the middle of its handshake (Welcome received, nothing sent through its transport
    /// yet, so the names of its FIFOs, queues or shared memory still exist): the hub removes them and closes
    /// everything of it.
    /// </summary>
    [Test]
    public void ClientGoneMidHandshake_TheHubRemovesItsObjects()
    {
        HubProcess hub = Env.StartHub();
        int countBefore = hub.DescriptorCount();
        int mapsBefore = hub.ShmRingMappings();
        using (RawConnection raw = RawConnection.Connect(Env.SocketPath))
        {
            TransportKind kind = Backend switch
            {
                "socket" => TransportKind.Socket,
                "fifo" => TransportKind.Fifo,
                "mqueue" => TransportKind.MessageQueue,
                "shm" => TransportKind.SharedMemory,
                _ => TransportKind.Pipe,
            };
            raw.Handshake("it-half", kind);
            Assert.That(raw.Welcome.Transport, Is.EqualTo(kind));
            string id = $"ipchub.{hub.Pid}.{raw.Welcome.ClientId}.";
            string[] names = Backend switch
            {
                "fifo" => [Path.Combine(Env.Directory, id + "c2h"), Path.Combine(Env.Directory, id + "h2c")],
                "mqueue" => ["/dev/mqueue/" + id + "c2h", "/dev/mqueue/" + id + "h2c"],
                "shm" => ["/dev/shm/" + id + "c2h", "/dev/shm/" + id + "h2c"],
                _ => [],
            };
            Assert.That(NamedObjects(hub), Is.EquivalentTo(names), "the client's objects have names until its first frame");
            Assert.That(raw.ReceivedDescriptors, Has.Count.EqualTo(Backend switch { "pipe" => 2, "shm" => 1, _ => 0 }),
                "descriptors with Welcome: a pipe client's two ends, a shared-memory client's doorbell");
            Assert.That(hub.DescriptorCount(), Is.GreaterThan(countBefore), "the hub holds the client's objects");
        }
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_release && !(hub.DescriptorCount() == countBefore && hub.ShmRingMappings() == mapsBefore && NamedObjects(hub).Count == 0))
        {
            Thread.Sleep(10);
        }
        Assert.Multiple(() =>
        {
            Assert.That(NamedObjects(hub), Is.Empty, "the hub removes the names of a client gone mid-handshake");
            Assert.That(hub.DescriptorCount(), Is.EqualTo(countBefore), "the hub closes everything of it");
            Assert.That(hub.ShmRingMappings(), Is.EqualTo(mapsBefore), "the hub unmaps its rings");
        });
        Env.SubscriberBackend = Backend;
        ChildProcess sub = Env.StartSubscriber("after", "--count", "1");
        Env.PublishOk("after", "the hub goes on", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
    }

    /// <summary>What each transport gives a client in the hub (beyond its control socket, which every client has).</summary>
    private void AssertVictimsObjects(HubProcess hub, ChildProcess victim, List<KeyValuePair<int, string>> victims, string shown, int mapsBefore)
    {
        string hubPrefix = $"ipchub.{hub.Pid}.";
        int sockets = victims.Count(d => d.Value.StartsWith("socket:", StringComparison.Ordinal));
        Assert.That(sockets, Is.EqualTo(1), $"one control socket per client: {shown}");
        // The names are gone once the client sent its first frame (it has subscribed by now).
        Assert.That(NamedObjects(hub), Is.Empty, "the client's object names are removed once it is connected");
        switch (Backend)
        {
            case "socket":
                Assert.That(victims, Has.Count.EqualTo(1), shown);
                break;
            case "fifo":
                Assert.That(victims.Count(d => d.Value.StartsWith(Path.Combine(Env.Directory, hubPrefix), StringComparison.Ordinal)), Is.EqualTo(2),
                    $"the hub holds the client's two FIFOs: {shown}");
                break;
            case "mqueue":
                Assert.That(victims.Count(d => d.Value.StartsWith("/" + hubPrefix, StringComparison.Ordinal)), Is.EqualTo(2),
                    $"the hub holds the client's two message queues: {shown}");
                break;
            case "shm":
                Assert.That(hub.ShmRingMappings(), Is.EqualTo(mapsBefore + 2), "the hub maps the client's two rings");
                break;
            case "pipe":
                // The hub keeps the read end of c2h and the write end of h2c; the victim holds the other ends.
                var victimPipes = Directory.GetFileSystemEntries($"/proc/{victim.Pid}/fd")
                    .Select(e => new FileInfo(e).LinkTarget).Where(t => t is not null && t.StartsWith("pipe:", StringComparison.Ordinal)).ToHashSet();
                Assert.That(victims.Count(d => victimPipes.Contains(d.Value)), Is.EqualTo(2), $"the hub holds one end of each of the client's two pipes: {shown}");
                break;
        }
    }

    private static string Diff(Dictionary<int, string> from, Dictionary<int, string> to)
        => string.Join(", ", to.Where(d => !from.TryGetValue(d.Key, out string? t) || t != d.Value).Select(d => $"{d.Key} -> {d.Value}"));

    private bool Released(HubProcess hub, List<KeyValuePair<int, string>> victims, int countBefore, int mapsBefore)
    {
        Dictionary<int, string> now = hub.Descriptors();
        return !victims.Any(v => now.TryGetValue(v.Key, out string? t) && t == v.Value)
            && now.Count == countBefore && hub.ShmRingMappings() == mapsBefore && NamedObjects(hub).Count == 0;
    }

    /// <summary>Names of the hub's per-client objects: FIFOs in its directory, queues, shared memory, semaphores.</summary>
    private List<string> NamedObjects(HubProcess hub)
    {
        string prefix = $"ipchub.{hub.Pid}.";
        return
        [
            .. Directory.EnumerateFileSystemEntries(Env.Directory, prefix + "*"),
            .. Directory.EnumerateFileSystemEntries("/dev/mqueue", prefix + "*"),
            .. Directory.EnumerateFileSystemEntries("/dev/shm", prefix + "*"),
            .. Directory.EnumerateFileSystemEntries("/dev/shm", "sem." + prefix + "*"),
        ];
    }
}
