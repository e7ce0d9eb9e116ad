using IpcCore.Protocol;
using MyIpcBench;
using MyIpcBench.Model;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

public sealed class CasePlannerTests
{
    [Test]
    public void TheDefaultRun_MeasuresEveryTransport_HubAndRaw_BothModes()
    {
        List<BenchCase> cases = CasePlanner.Plan(new BenchSettings());
        // Hub: shm × {futex, semaphore} × {0, 50 µs}, the other four × {0, 50 µs}; raw: the same for shm, one row each for the others.
        Assert.That(cases.Count(c => c.Path == BenchPath.Hub), Is.EqualTo((4 + 4 * 2) * 2));
        Assert.That(cases.Count(c => c.Path == BenchPath.Raw), Is.EqualTo((4 + 4) * 2));
        Assert.That(cases.Where(c => c.Mode == BenchMode.Throughput).Select(c => c.Messages).Distinct(), Has.Exactly(1).Items.And.All.EqualTo(1_000_000L));
        Assert.That(cases.Where(c => c.Mode == BenchMode.Latency).Select(c => c.Messages).Distinct(), Has.Exactly(1).Items.And.All.EqualTo(20_000L));
        Assert.That(cases.Where(c => c.Path == BenchPath.Raw && c.Transport != TransportKind.SharedMemory).Select(c => c.SpinMicroseconds).Distinct(),
            Has.Exactly(1).Items.And.All.EqualTo(0), "the raw stream mechanisms are not spun");
        Assert.That(cases.Select(c => c.ToString()).Distinct().Count(), Is.EqualTo(cases.Count), "no case twice");
    }

    [Test]
    public void WithOnlyASpinSetting_TheRawStreamMechanismsStillHaveTheirBaseline()
    {
        List<BenchCase> cases = CasePlanner.Plan(new BenchSettings { Spins = [50], Backends = [TransportKind.Socket] });
        Assert.That(cases.Where(c => c.Path == BenchPath.Raw).Select(c => (c.Mode, c.SpinMicroseconds)),
            Is.EquivalentTo(new[] { (BenchMode.Throughput, 0), (BenchMode.Latency, 0) }));
        Assert.That(cases.Where(c => c.Path == BenchPath.Hub).Select(c => c.Variant).Distinct(), Has.Exactly(1).Items.And.All.EqualTo("spin50us"));
    }

    [Test]
    public void AFanOut_IsHubOnly_AndLatencyIsMeasuredOnceAtTheFirstFanOut()
    {
        var settings = new BenchSettings { Subscribers = [1, 8], Backends = [TransportKind.SharedMemory], ShmWakes = [ShmWake.Futex], Spins = [0] };
        List<BenchCase> cases = CasePlanner.Plan(settings);
        Assert.That(cases.Select(c => (c.Path, c.Mode, c.Subscribers)), Is.EquivalentTo(new[]
        {
            (BenchPath.Hub, BenchMode.Throughput, 1), (BenchPath.Hub, BenchMode.Latency, 1), (BenchPath.Raw, BenchMode.Throughput, 1),
            (BenchPath.Raw, BenchMode.Latency, 1), (BenchPath.Hub, BenchMode.Throughput, 8),
        }));
    }

    [Test]
    public void LargeMessages_AreCutToTheCaseBudget_UnlessIterationsAreGiven()
    {
        var big = new BenchSettings { MessageSizes = [65536], Backends = [TransportKind.Socket], Spins = [0], Latency = false };
        long messages = CasePlanner.Plan(big).First(c => c.Path == BenchPath.Hub).Messages;
        Assert.That(messages, Is.LessThan(CasePlanner.DefaultMessages).And.GreaterThanOrEqualTo(10_000));
        Assert.That(messages * 65536 / 0.8e9, Is.LessThanOrEqualTo(10.5), "about 10 s at the planner's cautious speed");
        Assert.That(CasePlanner.Plan(big with { Iterations = 1234 }).Select(c => c.Messages).Distinct(), Has.Exactly(1).Items.And.All.EqualTo(1234L));
    }

    [Test]
    public void TheRawMessageQueue_IsLeftOut_ForMessagesOverTheSystemsMessageSize()
    {
        var settings = new BenchSettings { MessageSizes = [1024, 65536], Backends = [TransportKind.MessageQueue], Spins = [0] };
        List<BenchCase> cases = CasePlanner.Plan(settings, mqMaxMessageSize: 8192);
        Assert.That(cases.Where(c => c.Path == BenchPath.Raw).Select(c => c.MessageSize).Distinct(), Has.Exactly(1).Items.And.All.EqualTo(1024));
        Assert.That(cases.Count(c => c.Path == BenchPath.Hub && c.MessageSize == 65536), Is.EqualTo(2), "through the hub big messages are split");
    }
}
