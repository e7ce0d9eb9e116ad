using System.Globalization;
using IpcCore.Hub.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>
/// The hub's copies of passed descriptors go away whatever happens to the message: delivered, dropped for a full
/// queue, its subscriber gone, the hub stopped. The hub runs in this process, so its copies are counted in
/// /proc/self/fd by the memfd's unique name (parallel tests cannot disturb that count).
/// </summary>
[TestFixture]
public sealed class DescriptorLifetimeTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    /// <summary>A memfd with a name no other test uses, and a way to count every descriptor of it in this process.</summary>
    private sealed class TracedFile : IDisposable
    {
        private readonly string _target;

        public TracedFile(string tag)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"fdlife-{tag}-{Guid.NewGuid():N}");
            File = MemoryFile.Create(name);
            File.Write("x"u8);
            File.AddSeals(FileSeals.Immutable);
            _target = $"/memfd:{name} (deleted)";
        }

        public MemoryFile File { get; }

        public int Count()
        {
            int count = 0;
            foreach (string entry in Directory.GetFileSystemEntries("/proc/self/fd"))
            {
                try
                {
                    if (new FileInfo(entry).LinkTarget == _target)
                    {
                        count++;
                    }
                }
                catch (IOException)
                {
                    // closed while listing
                }
            }
            return count;
        }

        public void WaitForCount(int expected, string what)
        {
            DateTime deadline = DateTime.UtcNow + s_wait;
            int now;
            while ((now = Count()) != expected && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }
            Assert.That(now, Is.EqualTo(expected), what);
        }

        public void Dispose() => File.Dispose();
    }

    private static void PublishWithDescriptor(RawClient publisher, string channel, ulong id, TracedFile file, int size = 16)
    {
        byte[] frame = RawClient.Frame(FrameType.Publish, id, channel, new byte[size], FrameHeader.WithDescriptors(FrameFlags.None, 1));
        publisher.Socket.SendWithDescriptors(frame, [file.File.Handle]);
    }

    [Test]
    public void Delivered_TheHubKeepsNoCopy()
    {
        using InProcessHub hub = InProcessHub.Start("fdlife-delivered");
        using var file = new TracedFile("delivered");
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub");
        sub.Subscribe("life", 1);
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        for (ulong i = 1; i <= 50; i++)
        {
            PublishWithDescriptor(pub, "life", i, file);
            Assert.That(pub.ExpectAck(i).Delivered, Is.EqualTo(1));
        }
        for (int i = 0; i < 50; i++)
        {
            Assert.That(sub.Expect(FrameType.Data).Flags, Is.EqualTo(FrameHeader.WithDescriptors(FrameFlags.None, 1)));
        }
        Assert.That(sub.Descriptors.Batches, Is.EqualTo(50), "one batch per Data frame");
        file.WaitForCount(51, "the publisher's own descriptor and the subscriber's 50; the hub keeps none");
        sub.Descriptors.Clear();
        file.WaitForCount(1, "only the publisher's own descriptor is left");
    }

    [Test]
    public void QueuedForASubscriberThatGoes_TheHubClosesItsCopies()
    {
        using InProcessHub hub = InProcessHub.Start("fdlife-gone", o => o with { SlowPolicy = SlowConsumerPolicy.Drop });
        using var file = new TracedFile("gone");
        RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub", receiveBuffer: 4096);
        sub.Subscribe("life", 1);
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        for (ulong i = 1; i <= 200; i++)
        {
            PublishWithDescriptor(pub, "life", i, file, size: 32 * 1024); // the subscriber reads nothing: they queue, then drop
            pub.ExpectAck(i);
        }
        int held = file.Count() - 1;
        Assert.That(held, Is.GreaterThan(0), "the hub holds copies for what is queued");
        TestContext.Out.WriteLine($"the hub held {held} copies for the idle subscriber");
        sub.Dispose();
        file.WaitForCount(1, "the hub closes its copies when the subscriber goes");
    }

    [Test]
    public void QueuedWhenTheHubStops_TheHubClosesItsCopies()
    {
        var hub = InProcessHub.Start("fdlife-stop", o => o with { SlowPolicy = SlowConsumerPolicy.Drop, ShutdownTimeout = TimeSpan.FromMilliseconds(200) });
        using var file = new TracedFile("stop");
        using RawClient sub = RawClient.ConnectAndHandshake(hub.SocketPath, "sub", receiveBuffer: 4096);
        sub.Subscribe("life", 1);
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        for (ulong i = 1; i <= 100; i++)
        {
            PublishWithDescriptor(pub, "life", i, file, size: 32 * 1024);
            pub.ExpectAck(i);
        }
        Assert.That(file.Count(), Is.GreaterThan(1), "the hub holds copies for what is queued");
        Assert.That(hub.Stop(s_wait), Is.True);
        hub.Dispose();
        file.WaitForCount(1, "a stopped hub has closed every copy");
    }

    [Test]
    public void ARefusedPublish_ItsDescriptorsAreClosedAtOnce()
    {
        using InProcessHub hub = InProcessHub.Start("fdlife-refused", o => o with { MaxChannels = 1 });
        using var file = new TracedFile("refused");
        using RawClient pub = RawClient.ConnectAndHandshake(hub.SocketPath, "pub");
        PublishWithDescriptor(pub, "first", 1, file);
        pub.ExpectAck(1);
        PublishWithDescriptor(pub, "second", 2, file); // over --max-channels: refused
        pub.ExpectError(ProtocolErrorCode.TooManyChannels, fatal: false);
        file.WaitForCount(1, "nothing routed, nothing kept");
    }
}
