using System.Text;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

[TestFixture]
public sealed class RouterTests
{
    private readonly List<ClientConnection> _clients = [];

    [TearDown]
    public void DisposeClients()
    {
        foreach (ClientConnection c in _clients)
        {
            c.Dispose();
        }
        _clients.Clear();
    }

    private ClientConnection Client(ulong id)
    {
        var c = new ClientConnection(id, control: null, default, maxFrameLength: 4096, queueMessages: 16, queueBytes: 1 << 20);
        _clients.Add(c);
        return c;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static List<ulong> RouteOf(Router router, string channel)
        => router.GetRoute(router.GetOrAddChannel(B(channel))!).ToArray().Select(c => c.Id).Order().ToList();

    [Test]
    public void Wildcards_MatchPerTheProtocol_AndEachClientIsRoutedOnce()
    {
        var router = new Router(100, 100);
        ClientConnection a = Client(1);
        ClientConnection b = Client(2);
        ClientConnection c = Client(3);
        router.Subscribe(a, B("weather.*"));
        router.Subscribe(a, B("weather.>"));
        router.Subscribe(a, B("weather.today"));
        router.Subscribe(b, B("weather"));
        router.Subscribe(c, B("sensors.>"));

        Assert.Multiple(() =>
        {
            Assert.That(RouteOf(router, "weather.today"), Is.EqualTo(new ulong[] { 1 }), "three matching patterns, one entry");
            Assert.That(RouteOf(router, "weather"), Is.EqualTo(new ulong[] { 2 }), "'*' and '>' need a token");
            Assert.That(RouteOf(router, "weather.a.b"), Is.EqualTo(new ulong[] { 1 }), "'>' matches more tokens, '*' does not");
            Assert.That(RouteOf(router, "sensors.a.b.c"), Is.EqualTo(new ulong[] { 3 }));
            Assert.That(RouteOf(router, "sensors"), Is.Empty);
            Assert.That(RouteOf(router, "other"), Is.Empty);
        });
    }

    [Test]
    public void Route_IsCached_UntilASubscriptionChanges()
    {
        var router = new Router(100, 100);
        ClientConnection a = Client(1);
        ClientConnection b = Client(2);
        router.Subscribe(a, B("t.*"));
        Channel channel = router.GetOrAddChannel(B("t.x"))!;

        router.GetRoute(channel);
        long computed = router.RouteComputations;
        for (int i = 0; i < 100; i++)
        {
            Assert.That(router.GetRoute(channel).Length, Is.EqualTo(1));
        }
        Assert.That(router.RouteComputations, Is.EqualTo(computed), "no recomputation while nothing changes");

        router.Subscribe(b, B("t.x"));
        Assert.That(router.GetRoute(channel).Length, Is.EqualTo(2), "a new subscriber invalidates the cached route");
        Assert.That(router.RouteComputations, Is.EqualTo(computed + 1));

        Assert.That(router.Unsubscribe(a, B("t.*")), Is.True);
        Assert.That(router.GetRoute(channel).ToArray().Single(), Is.SameAs(b));

        Assert.That(router.RemoveClient(b), Is.True);
        Assert.That(router.GetRoute(channel).Length, Is.Zero);
        Assert.That(router.SubscriberCount, Is.Zero);
    }

    [Test]
    public void RouteLookup_AllocatesNothing()
    {
        var router = new Router(100, 100);
        for (ulong i = 1; i <= 10; i++)
        {
            router.Subscribe(Client(i), B("hot.>"));
        }
        byte[] name = B("hot.path");
        router.GetRoute(router.GetOrAddChannel(name)!);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 10000; i++)
        {
            total += router.GetRoute(router.GetOrAddChannel(name)!).Length;
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(total, Is.EqualTo(100000));
    }

    [Test]
    public void Subscribe_Twice_IsANoOp_AndTheLimitHolds()
    {
        var router = new Router(100, maxSubscriptionsPerClient: 2);
        ClientConnection a = Client(1);
        Assert.Multiple(() =>
        {
            Assert.That(router.Subscribe(a, B("x")), Is.EqualTo(SubscribeResult.Added));
            Assert.That(router.Subscribe(a, B("x")), Is.EqualTo(SubscribeResult.AlreadySubscribed));
            Assert.That(router.Subscribe(a, B("y")), Is.EqualTo(SubscribeResult.Added));
            Assert.That(router.Subscribe(a, B("z")), Is.EqualTo(SubscribeResult.LimitReached));
            Assert.That(a.Subscriptions, Has.Count.EqualTo(2));
            Assert.That(router.Unsubscribe(a, B("z")), Is.False, "not held");
            Assert.That(router.Unsubscribe(a, B("x.*")), Is.False, "patterns are compared exactly");
        });
    }

    [Test]
    public void Channels_StopAtTheLimit()
    {
        var router = new Router(maxChannels: 2, 10);
        Assert.Multiple(() =>
        {
            Assert.That(router.GetOrAddChannel(B("a")), Is.Not.Null);
            Assert.That(router.GetOrAddChannel(B("b")), Is.Not.Null);
            Assert.That(router.GetOrAddChannel(B("c")), Is.Null);
            Assert.That(router.GetOrAddChannel(B("a")), Is.Not.Null, "existing channels still resolve");
        });
    }

    [Test]
    public void ClosingClients_AreLeftOutOfNewRoutes()
    {
        var router = new Router(10, 10);
        ClientConnection a = Client(1);
        ClientConnection b = Client(2);
        router.Subscribe(a, B("q"));
        router.Subscribe(b, B("q"));
        a.MarkClosing("test");
        router.Subscribe(b, B("q2")); // any change recomputes
        Assert.That(RouteOf(router, "q"), Is.EqualTo(new ulong[] { 2 }));
    }
}
