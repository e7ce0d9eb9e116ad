using System.Globalization;
using System.Text;
using IpcCore.Client;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// A hub killed with SIGKILL while clients of every transport are connected: it leaves publish.fifo, hub.sock
/// and hub.lock (and, had a client been mid-handshake, that client's FIFO and queue, planted here);
/// <c>myipchub gc --dry-run</c> lists them all; a new hub on the directory starts, removes the dead hub's
/// objects, and every client (the CLIs and a HubClient in this process) reconnects and works with it.
/// </summary>
/// <remarks>
/// Not parallel with the other fixtures: a hub that starts removes every dead hub's queues and shared memory,
/// so another test's hub could sweep the planted queue before gc sees it. Hubs of other test assemblies still
/// may: the listing is retried with a fresh queue when the planted one vanished under it.
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed class HubCrashTests : HubTest
{
    private const string Channel = "crash.news";

    private protected override string Tag => "crash";

    [Test]
    public async Task HubKilled_ItsLeftoversAreListedByGc_TheNextHubRemovesThem_AndEveryTransportReconnects()
    {
        HubProcess dead = Env.StartHub();
        var subs = new Dictionary<string, ChildProcess>();
        foreach (string backend in HubTestEnvironment.AllBackends)
        {
            Env.SubscriberBackend = backend;
            subs[backend] = Env.StartSubscriber([Channel], waitSubscribed: false);
        }
        foreach ((string backend, ChildProcess sub) in subs)
        {
            HubTestEnvironment.WaitSubscribed(sub, [Channel], backend);
        }
        await using HubClient client = await HubClient.ConnectAsync(new HubClientOptions
        {
            Directory = Env.Directory,
            Transport = TransportKind.MessageQueue,
            ClientName = "it-crash-hubclient",
            ConnectTimeout = Timeouts.Start,
            Reconnect = true,
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        });
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, e) =>
        {
            if (e.State == HubConnectionState.Reconnected)
            {
                reconnected.TrySetResult();
            }
        };
        await using HubSubscription subscription = await client.SubscribeAsync(Channel).WaitAsync(Timeouts.Message);

        dead.Child.Signal(ChildProcess.SigKill);
        dead.Child.WaitForExit(Timeouts.Message, "the killed hub");
        string[] leftFiles = [Env.InboxPath, Env.LockPath, Env.SocketPath];
        Assert.That(HubTestEnvironment.HubFilesIn(Env.Directory), Is.EquivalentTo(leftFiles),
            "a SIGKILLed hub leaves publish.fifo, hub.sock and hub.lock (its clients' FIFOs were unlinked once they connected)");
        foreach ((string backend, ChildProcess sub) in subs)
        {
            sub.WaitForStderrLine(l => l.Contains("Reconnecting to hub...", StringComparison.Ordinal), Timeouts.Message,
                $"the {backend} subscriber notices the hub died");
        }

        // What the crash would have left of a client in the middle of its handshake.
        string fifo = Path.Combine(Env.Directory, $"ipchub.{dead.Pid}.7.c2h");
        string queue = $"/ipchub.{dead.Pid}.7.h2c";
        Fifo.Create(fifo);
        for (int attempt = 1; ; attempt++)
        {
            using (MessageQueue.Create(queue, 10, 1024))
            {
            }
            ChildProcess dry = Env.StartClient(Tools.Hub, ["gc", "--dir", Env.Directory, "--dry-run"]);
            dry.CloseStdin();
            Assert.That(dry.WaitForExit(Timeouts.Message, "myipchub gc --dry-run"), Is.Zero, dry.Describe());
            bool queueSurvived = File.Exists("/dev/mqueue" + queue);
            if (!queueSurvived && attempt < 3)
            {
                TestContext.Progress.WriteLine($"attempt {attempt}: another hub swept the planted queue; planting it again");
                continue;
            }
            Assert.That(queueSurvived, Is.True, "--dry-run removes nothing");
            IReadOnlyList<string> listed = dry.StdoutLines();
            foreach ((string path, string kind) in new[]
            {
                (Env.InboxPath, "inbox FIFO"), (Env.SocketPath, "socket"), (Env.LockPath, "lock file"),
                (fifo, "FIFO"), ("/dev/mqueue" + queue, "message queue"),
            })
            {
                Assert.That(listed.Any(l => l.StartsWith($"would remove {path} ({kind}; ", StringComparison.Ordinal)), Is.True,
                    $"gc --dry-run lists {path} as a {kind}\n{dry.Describe()}");
                Assert.That(File.Exists(path), Is.True, $"--dry-run leaves {path}");
            }
            break;
        }

        HubProcess next = Env.StartHub();
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(fifo), Is.False, $"the new hub removes the dead hub's FIFO {fifo}");
            Assert.That(File.Exists("/dev/mqueue" + queue), Is.False, $"the new hub removes the dead hub's queue {queue}");
            Assert.That(DeadHubObjects(dead.Pid), Is.Empty, "nothing named after the dead hub is left");
            Assert.That(ReadLockFile(), Is.EqualTo(next.Pid.ToString(CultureInfo.InvariantCulture)), "hub.lock is the new hub's");
        });
        Assert.That(next.Child.StderrText(), Does.Contain("removed the stale inbox FIFO"), next.Child.Describe());

        foreach ((string backend, ChildProcess sub) in subs)
        {
            sub.WaitForStderrLine(l => l.Contains("Reconnected; resubscribed to 1 pattern(s)", StringComparison.Ordinal), Timeouts.Message,
                $"the {backend} subscriber reconnects to the new hub");
        }
        await reconnected.Task.WaitAsync(Timeouts.Message);

        // One message from a publisher of each transport reaches all six subscribers.
        foreach (string backend in HubTestEnvironment.AllBackends)
        {
            Env.PublisherBackend = backend;
            Env.PublishOk(Channel, $"after the crash via {backend}", 6);
        }
        string[] expected = [.. HubTestEnvironment.AllBackends.Select(b => $"[{Channel}] after the crash via {b}")];
        foreach ((string backend, ChildProcess sub) in subs)
        {
            sub.WaitForStdoutLines(l => l.Contains("after the crash", StringComparison.Ordinal), expected.Length, Timeouts.Message,
                $"the {backend} subscriber gets every message after the crash");
            Assert.That(sub.StdoutLines(), Is.EqualTo(expected), sub.Describe());
        }
        using var timeout = new CancellationTokenSource(Timeouts.Message);
        var received = new List<string>();
        await foreach (HubMessage m in subscription.WithCancellation(timeout.Token))
        {
            received.Add(Encoding.UTF8.GetString(m.Payload.Span));
            if (received.Count == expected.Length)
            {
                break;
            }
        }
        Assert.That(received, Is.EqualTo(HubTestEnvironment.AllBackends.Select(b => $"after the crash via {b}")), "the HubClient's subscription");
    }

    /// <summary>hub.lock's content, read with cat (.NET's File API takes a shared flock(2), which the hub's exclusive lock refuses).</summary>
    private string ReadLockFile()
    {
        ChildProcess cat = Env.StartShell($"cat {Env.LockPath}");
        Assert.That(cat.WaitForExit(Timeouts.Message, "cat hub.lock"), Is.Zero, cat.Describe());
        return cat.StdoutText().Trim();
    }

    /// <summary>Every object named after <paramref name="hubPid"/>: FIFOs in the hub directory, queues, shared memory, semaphores.</summary>
    private List<string> DeadHubObjects(int hubPid)
    {
        string prefix = $"ipchub.{hubPid}.";
        return
        [
            .. Directory.EnumerateFileSystemEntries(Env.Directory, prefix + "*"),
            .. Directory.EnumerateFileSystemEntries("/dev/mqueue", prefix + "*"),
            .. Directory.EnumerateFileSystemEntries("/dev/shm", prefix + "*"),
            .. Directory.EnumerateFileSystemEntries("/dev/shm", "sem." + prefix + "*"),
        ];
    }
}
