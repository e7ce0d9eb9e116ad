using System.Globalization;
using IpcCore.Client;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Hub.Transports;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>The shared-memory transport in process: HubClient over shm (and socket) against an in-process hub.</summary>
[TestFixture]
[NonParallelizable] // counts the process's own ring mappings
public sealed class SharedMemoryTransportTests
{
    private static readonly string[] s_socketAndShm = ["socket", "shm"];
    private static readonly string[] s_transportNames = ["pipe", "fifo", "socket", "mqueue", "shm"];

    private static string HubObjects => $"ipchub.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.";

    private static HubClientOptions Options(InProcessHub hub, TransportKind transport, string name) => new()
    {
        Directory = hub.Directory.Path,
        ClientName = name,
        Transport = transport,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Reconnect = false,
    };

    private static int Mappings() => File.ReadLines("/proc/self/maps").Count(l => l.Contains("/dev/shm/" + HubObjects, StringComparison.Ordinal));

    private static int Names() => Directory.GetFiles("/dev/shm", HubObjects + "*").Length;

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(what);
            }
            Thread.Sleep(10);
        }
    }

    [Test]
    public void A_transport_the_hub_does_not_offer_is_refused_with_UnsupportedTransport()
    {
        using InProcessHub hub = InProcessHub.Start("backends", o => o with { Backends = [TransportKind.Socket, TransportKind.SharedMemory] });
        Assert.That(hub.Server.TransportNames, Is.EqualTo(s_socketAndShm));
        using RawClient client = RawClient.Connect(hub.SocketPath);
        client.SendHello("fifo-client", TransportKind.Fifo);
        ReceivedFrame error = client.ExpectError(ProtocolErrorCode.UnsupportedTransport, fatal: true);
        Assert.That(error.ErrorReason, Does.Contain("the fifo transport is not available; this hub offers: socket, shm"));
    }

    [TestCase(TransportKind.SharedMemory, TransportKind.SharedMemory)]
    [TestCase(TransportKind.SharedMemory, TransportKind.Socket)]
    [TestCase(TransportKind.Socket, TransportKind.SharedMemory)]
    public async Task Messages_up_to_the_maximum_size_flow_in_order_through_a_1MiB_ring(TransportKind publisher, TransportKind subscriber)
    {
        using InProcessHub hub = InProcessHub.Start("shmflow");
        Assert.That(hub.Server.TransportNames, Is.EqualTo(s_transportNames));
        const int count = 300;
        var sizes = Enumerable.Range(0, count).Select(i => i switch
        {
            0 => 0,
            7 => ProtocolLimits.DefaultMaxMessageSize,
            100 => ProtocolLimits.DefaultMaxMessageSize,
            _ => (i * 7919) % 70_000,
        }).ToArray();
        var received = new List<(ulong Seq, int Length, byte First)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (HubClient sub = await HubClient.ConnectAsync(Options(hub, subscriber, "sub")))
        await using (HubClient pub = await HubClient.ConnectAsync(Options(hub, publisher, "pub")))
        {
            Assert.That(sub.Transport, Is.EqualTo(subscriber));
            Assert.That(pub.Transport, Is.EqualTo(publisher));
            await sub.SubscribeAsync("ring.>", (channel, sequence, payload) =>
            {
                lock (received)
                {
                    received.Add((sequence, payload.Length, payload.IsEmpty ? (byte)0 : payload[0]));
                    if (received.Count == count)
                    {
                        done.TrySetResult();
                    }
                }
            });
            for (int i = 0; i < count; i++)
            {
                byte[] payload = new byte[sizes[i]];
                payload.AsSpan().Fill((byte)i);
                PublishResult result = await pub.PublishAsync("ring.data", payload);
                Assert.That(result.Delivered, Is.EqualTo(1));
            }
            Assert.That(await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(done.Task), $"received {received.Count} of {count}");
            lock (received)
            {
                for (int i = 0; i < count; i++)
                {
                    Assert.That(received[i], Is.EqualTo(((ulong)(i + 1), sizes[i], sizes[i] == 0 ? (byte)0 : (byte)i)), $"message {i}");
                }
            }
            // Both mapped their rings, so the hub has unlinked the names already.
            WaitFor(() => Names() == 0, TimeSpan.FromSeconds(2), "the ring names should be unlinked once the clients mapped them");
        }
        // The clients are gone: the hub releases their rings within a second.
        WaitFor(() => Mappings() == 0, TimeSpan.FromSeconds(1), $"the rings should be unmapped, still {Mappings()}");
        Assert.That(Names(), Is.Zero);
    }

    private static int SemaphoreNames() => Directory.GetFiles("/dev/shm", "sem." + HubObjects + "*").Length;

    [Test]
    public async Task Semaphore_wake_mode_carries_messages_in_order_and_leaves_nothing_in_dev_shm()
    {
        using InProcessHub hub = InProcessHub.Start("shmsem", o => o with { SharedMemoryWake = IpcCore.Rings.RingWakeMode.Semaphore });
        const int count = 300;
        var sizes = Enumerable.Range(0, count).Select(i => i == 150 ? 1 << 20 : (i * 7919) % 9_000).ToArray();
        var received = new List<(ulong Seq, int Length, byte First)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (HubClient sub = await HubClient.ConnectAsync(Options(hub, TransportKind.SharedMemory, "sub")))
        await using (HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.SharedMemory, "pub")))
        {
            Assert.That(sub.Transport, Is.EqualTo(TransportKind.SharedMemory));
            Assert.That(pub.Transport, Is.EqualTo(TransportKind.SharedMemory));
            await sub.SubscribeAsync("sem.>", (channel, sequence, payload) =>
            {
                lock (received)
                {
                    received.Add((sequence, payload.Length, payload.IsEmpty ? (byte)0 : payload[0]));
                    if (received.Count == count)
                    {
                        done.TrySetResult();
                    }
                }
            });
            for (int i = 0; i < count; i++)
            {
                byte[] payload = new byte[sizes[i]];
                payload.AsSpan().Fill((byte)i);
                PublishResult result = await pub.PublishAsync("sem.data", payload);
                Assert.That(result.Delivered, Is.EqualTo(1));
            }
            Assert.That(await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(done.Task), $"received {received.Count} of {count}");
            lock (received)
            {
                for (int i = 0; i < count; i++)
                {
                    Assert.That(received[i], Is.EqualTo(((ulong)(i + 1), sizes[i], sizes[i] == 0 ? (byte)0 : (byte)i)), $"message {i}");
                }
            }
            // The semaphore names go with the ring names, once the clients' first frames arrived.
            WaitFor(() => Names() == 0 && SemaphoreNames() == 0, TimeSpan.FromSeconds(2),
                $"the ring and semaphore names should be unlinked once the clients mapped them ({Names()}, {SemaphoreNames()} left)");
        }
        WaitFor(() => Mappings() == 0, TimeSpan.FromSeconds(1), $"the rings should be unmapped, still {Mappings()}");
        Assert.That(Names(), Is.Zero);
        Assert.That(SemaphoreNames(), Is.Zero);
    }

    [Test]
    public async Task Many_small_fire_and_forget_messages_all_arrive_over_shm()
    {
        using InProcessHub hub = InProcessHub.Start("shmsmall");
        long got = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int count = 20_000;
        await using HubClient sub = await HubClient.ConnectAsync(Options(hub, TransportKind.SharedMemory, "sub"));
        await using HubClient pub = await HubClient.ConnectAsync(Options(hub, TransportKind.SharedMemory, "pub"));
        await sub.SubscribeAsync("small", (channel, sequence, payload) =>
        {
            if (Interlocked.Increment(ref got) == count)
            {
                done.TrySetResult();
            }
        });
        byte[] payload = new byte[32];
        for (int i = 0; i < count; i++)
        {
            pub.PublishAndForget("small", payload);
        }
        Assert.That(await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(done.Task), $"received {Interlocked.Read(ref got)} of {count}");
    }

    [Test]
    public void Stale_objects_of_a_dead_hub_are_swept_and_live_ones_are_kept()
    {
        int dead = 0;
        for (int pid = 4_000_000; pid > 300_000; pid -= 1_237)
        {
            if (!ProcessInfo.IsAlive(pid))
            {
                dead = pid;
                break;
            }
        }
        string stale = $"/dev/shm/ipchub.{dead.ToString(CultureInfo.InvariantCulture)}.3.c2h";
        string live = $"/dev/shm/{HubObjects}999.c2h";
        string staleSemaphore = $"/dev/shm/sem.ipchub.{dead.ToString(CultureInfo.InvariantCulture)}.3.c2h.data";
        File.WriteAllBytes(stale, []);
        File.WriteAllBytes(live, []);
        File.WriteAllBytes(staleSemaphore, []);
        try
        {
            var log = new TestLog();
            IReadOnlyList<string> removed = SharedMemoryTransport.SweepStale(log.CreateLogger("test"));
            Assert.That(removed, Does.Contain(Path.GetFileName(stale)));
            Assert.That(log.Contains(60, "removed the stale shared-memory object " + stale), Is.True, "the sweep logs what it removed");
            Assert.That(File.Exists(stale), Is.False);
            Assert.That(File.Exists(staleSemaphore), Is.False, "a dead hub's semaphores are swept too");
            Assert.That(removed, Does.Contain(Path.GetFileName(staleSemaphore)));
            Assert.That(File.Exists(live), Is.True, "objects of a live hub stay");
        }
        finally
        {
            File.Delete(stale);
            File.Delete(live);
            File.Delete(staleSemaphore);
        }
    }
}
