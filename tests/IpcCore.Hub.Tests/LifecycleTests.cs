using System.Diagnostics;
using System.Text;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>Start-up, shutdown and the hub's files; idle behaviour and the allocation-free hot path.</summary>
[TestFixture]
public sealed class LifecycleTests
{
    [Test]
    public void Stop_SaysGoodbyeToEveryClient_AndRemovesSocketLockAndTheDirectoryItCreated()
    {
        InProcessHub hub = InProcessHub.Start("stop");
        try
        {
            Assert.That(File.Exists(hub.Directory.SocketPath) && File.Exists(hub.Directory.LockPath), Is.True);
            Assert.That(File.ReadAllText(hub.Directory.LockPath).Trim(), Is.EqualTo(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            using RawClient welcomed = RawClient.ConnectAndHandshake(hub.SocketPath, "w");
            using RawClient handshaking = RawClient.Connect(hub.SocketPath);
            welcomed.AssertAlive();

            Assert.That(hub.Stop(TimeSpan.FromSeconds(10)), Is.True, "the hub stops (the SIGTERM path)");
            foreach (RawClient client in new[] { welcomed, handshaking })
            {
                List<ReceivedFrame> frames = client.ReadUntilClosed();
                Assert.That(frames, Has.Count.EqualTo(1), string.Join(", ", frames));
                Assert.That(frames[0].Type, Is.EqualTo(FrameType.Goodbye));
                Assert.That(frames[0].Text, Is.EqualTo("hub shutting down"));
            }
            Assert.That(Directory.Exists(hub.Directory.Path), Is.False, "the directory the hub created is gone with its files");
            Assert.That(hub.Log.Contains(106, "hub.sock"), Is.True);
        }
        finally
        {
            hub.Dispose();
        }
    }

    [Test]
    public void Stop_FlushesQueuedOutput_WithinTheShutdownTimeout_AndGivesUpOnAClientThatDoesNotRead()
    {
        InProcessHub hub = InProcessHub.Start("drain", o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1), MaxMessageSize = 64 * 1024, QueueBytes = 8L << 20 });
        try
        {
            using RawClient reader = RawClient.ConnectAndHandshake(hub.SocketPath, "reader");
            using RawClient stuck = RawClient.ConnectAndHandshake(hub.SocketPath, "stuck");
            using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
            reader.Subscribe("d", 1);
            stuck.Subscribe("d", 1);
            byte[] payload = new byte[60 * 1024];
            for (ulong i = 1; i <= 40; i++)
            {
                pub.Publish("d", payload, i, noAck: true); // 2.4 MB: more than the socket buffers hold (the queues take 8 MiB)
            }
            pub.AssertAlive();

            var reading = Background.Run(() => reader.ReadUntilClosed(TimeSpan.FromSeconds(30)));
            var sw = Stopwatch.StartNew();
            Assert.That(hub.Stop(TimeSpan.FromSeconds(20)), Is.True);
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the stuck client does not hold the shutdown up past its timeout");
            List<ReceivedFrame> frames = reading.Result;
            Assert.That(frames.Count(f => f.Type == FrameType.Data), Is.EqualTo(40), "queued output reached the reading client");
            Assert.That(frames[^1].Type, Is.EqualTo(FrameType.Goodbye));
            Assert.That(hub.Log.Contains(105, "still had"), Is.True, "the stuck client's leftovers are reported");
        }
        finally
        {
            hub.Dispose();
        }
    }

    [Test]
    public void AStaleSocketAndLockFile_FromAKilledHub_AreReplaced()
    {
        using var dir = new TempHubDirectory("stale");
        Directory.CreateDirectory(dir.Path);
        using (UnixSocket dead = UnixSocket.CreateStream())
        {
            dead.Bind(dir.SocketPath); // the file stays after close, like a SIGKILLed hub's
        }
        File.WriteAllText(dir.LockPath, "999999\n");

        var log = new TestLog();
        using var server = new HubServer(new HubOptions { Directory = dir.Path }, log);
        server.Start();
        var loop = new Thread(server.Run);
        loop.Start();
        try
        {
            using RawClient client = RawClient.ConnectAndHandshake(server.SocketPath, "after-stale");
            client.AssertAlive();
            Assert.That(log.Contains(102, dir.SocketPath), Is.True, string.Join("\n", log.Entries));
            Assert.That(log.Contains(103, "999999"), Is.True);
        }
        finally
        {
            server.RequestStop();
            loop.Join();
        }
        Assert.That(File.Exists(dir.SocketPath) || File.Exists(dir.LockPath), Is.False);
        Assert.That(Directory.Exists(dir.Path), Is.True, "a directory the hub did not create stays");
    }

    [Test]
    public void ASecondHub_OnTheSameDirectory_IsRefused_AndTheFirstKeepsWorking()
    {
        using InProcessHub first = InProcessHub.Start("second");
        using var second = new HubServer(new HubOptions { Directory = first.Directory.Path });
        var e = Assert.Throws<HubStartException>(second.Start);
        Assert.That(e!.Message, Is.EqualTo($"another hub (pid {Environment.ProcessId}) is running on {first.Directory.Path}"));
        second.Dispose();
        Assert.That(File.Exists(first.Directory.SocketPath) && File.Exists(first.Directory.LockPath), Is.True,
            "the refused hub leaves the running hub's files alone");
        using RawClient client = RawClient.ConnectAndHandshake(first.SocketPath, "c");
        client.AssertAlive();
    }

    [Test]
    public void StartUpFailure_RemovesWhatItCreated()
    {
        // A directory whose socket path is longer than sun_path: bind fails with ENAMETOOLONG.
        using var dir = new TempHubDirectory("long-" + new string('x', 100));
        using var server = new HubServer(new HubOptions { Directory = dir.Path });
        var e = Assert.Throws<IpcException>(server.Start);
        Assert.That(e!.Message, Does.StartWith("bind('").And.Contain("ENAMETOOLONG"));
        Assert.That(Directory.Exists(dir.Path), Is.False, "the directory, lock file and all are gone again");
    }

    [TestCase(false, "700", "600")]
    [TestCase(true, "750", "660")]
    public void FileModes_FollowGroupAccess(bool groupAccess, string directoryMode, string socketMode)
    {
        using InProcessHub hub = InProcessHub.Start("modes", o => o with { GroupAccess = groupAccess });
        Assert.That(Convert.ToString((int)File.GetUnixFileMode(hub.Directory.Path), 8), Is.EqualTo(directoryMode));
        Assert.That(Convert.ToString((int)File.GetUnixFileMode(hub.Directory.SocketPath), 8), Is.EqualTo(socketMode));
    }

    [Test]
    public void AnIdleHub_DoesNotSpin()
    {
        using InProcessHub hub = InProcessHub.Start("idle");
        using RawClient client = RawClient.ConnectAndHandshake(hub.SocketPath, "idle");
        client.Subscribe("x.>", 1);
        client.AssertAlive();
        Thread.Sleep(100);
        long before = hub.Engine.Iterations;
        Thread.Sleep(800);
        Assert.That(hub.Engine.Iterations - before, Is.Zero, "no wake-ups without events or deadlines");
    }

    [Test]
    public void TheHotPath_AllocatesNothingPerMessage()
    {
        using InProcessHub hub = InProcessHub.Start("alloc");
        using RawClient sub1 = RawClient.ConnectAndHandshake(hub.SocketPath, "sub1");
        using RawClient sub2 = RawClient.ConnectAndHandshake(hub.SocketPath, "sub2");
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        sub1.Subscribe("hot.>", 1);
        sub1.Subscribe("hot.*", 2);
        sub2.Subscribe("hot.path", 1);

        void Round(int count, ulong firstId)
        {
            using var batch = new MemoryStream();
            for (int i = 0; i < count; i++)
            {
                batch.Write(RawClient.Frame(FrameType.Publish, firstId + (ulong)i, i % 2 == 0 ? "hot.path" : "hot.other", Encoding.ASCII.GetBytes("payload")));
            }
            var send = Background.Run(() => pub.Send(batch.ToArray()));
            int sub2Expected = (count + 1) / 2;
            var drain2 = Background.Run(() =>
            {
                for (int i = 0; i < sub2Expected; i++)
                {
                    sub2.Expect(FrameType.Data);
                }
            });
            for (int i = 0; i < count; i++)
            {
                sub1.Expect(FrameType.Data);
                pub.ExpectAck(firstId + (ulong)i);
            }
            send.Wait();
            drain2.Wait();
            pub.AssertAlive(); // a last frame, so the loop has sampled its counters after everything
        }

        // Bursts of 2000 pipelined publishes: the queues grow to a burst once, in the warm-up (and the JIT
        // settles), and every later burst reuses them.
        for (int r = 0; r < 5; r++)
        {
            Round(2000, (ulong)r * 10000 + 1);
        }
        long before = hub.Engine.LoopAllocatedBytes;
        for (int r = 5; r < 15; r++)
        {
            Round(2000, (ulong)r * 10000 + 1);
        }
        long allocated = hub.Engine.LoopAllocatedBytes - before;
        Assert.That(allocated, Is.LessThan(20000), $"{allocated} bytes allocated by the loop for 20000 messages (40000 deliveries, 20000 Acks)");
    }
}
