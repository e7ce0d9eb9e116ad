using IpcCore.Protocol;
using MyIpcBench;
using MyIpcBench.Model;
using MyIpcBench.Running;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

public sealed class ResultMergerTests
{
    private static readonly LatencySummary s_oneWay = new(100, 5200, 4000, 5000, 9000, 20000, 30000);
    private static readonly LatencySummary s_rtt = new(100, 6200, 5000, 6000, 10000, 21000, 31000);

    private static CaseMeasurement Throughput(TransportKind t, BenchPath path, double mb, int spin = 0, int subscribers = 1) =>
        new(new BenchCase(t, path, 1024, subscribers, BenchMode.Throughput, 1000, ShmWake.Futex, spin)) { MbPerS = mb, MsgsPerS = mb * 1e6 / 1024 };

    private static CaseMeasurement Latency(TransportKind t, BenchPath path, int spin = 0) =>
        new(new BenchCase(t, path, 1024, 1, BenchMode.Latency, 100, ShmWake.Futex, spin)) { OneWay = s_oneWay, RttHalf = s_rtt };

    [Test]
    public void ThroughputAndLatency_OfACase_AreOneRow_WithTheHubOverRawRatio()
    {
        List<CaseResult> rows = ResultMerger.Merge(
        [
            Throughput(TransportKind.SharedMemory, BenchPath.Hub, 3000), Latency(TransportKind.SharedMemory, BenchPath.Hub),
            Throughput(TransportKind.SharedMemory, BenchPath.Raw, 6000), Latency(TransportKind.SharedMemory, BenchPath.Raw),
        ]);
        Assert.That(rows, Has.Count.EqualTo(2));
        CaseResult hub = rows.Single(r => r.Path == "hub");
        Assert.That(hub.MbPerS, Is.EqualTo(3000));
        Assert.That(hub.LatP50Us, Is.EqualTo(5.0));
        Assert.That(hub.RttHalfP50Us, Is.EqualTo(6.0));
        Assert.That(hub.LatencySamples, Is.EqualTo(100));
        Assert.That(hub.HubOverRaw, Is.EqualTo(0.5));
        Assert.That(rows.Single(r => r.Path == "raw").HubOverRaw, Is.Null);
    }

    [Test]
    public void ASpinningHubRow_OfAStreamMechanism_IsComparedWithItsOneRawRow()
    {
        List<CaseResult> rows = ResultMerger.Merge(
        [
            Throughput(TransportKind.Socket, BenchPath.Hub, 1200), Throughput(TransportKind.Socket, BenchPath.Hub, 1500, spin: 50),
            Throughput(TransportKind.Socket, BenchPath.Raw, 600),
        ]);
        Assert.That(rows.Single(r => r.Variant == "spin50us").HubOverRaw, Is.EqualTo(2.5));
        Assert.That(rows.Single(r => r.Path == "hub" && r.Variant.Length == 0).HubOverRaw, Is.EqualTo(2.0));
    }

    [Test]
    public void AFanOutRow_HasNoRatio_AndAFailureIsKeptWithItsMode()
    {
        List<CaseResult> rows = ResultMerger.Merge(
        [
            Throughput(TransportKind.SharedMemory, BenchPath.Hub, 3000), Throughput(TransportKind.SharedMemory, BenchPath.Hub, 6000, subscribers: 8),
            Throughput(TransportKind.SharedMemory, BenchPath.Raw, 6000),
            new CaseMeasurement(new BenchCase(TransportKind.SharedMemory, BenchPath.Hub, 1024, 1, BenchMode.Latency, 100)) { Error = "timed out" },
        ]);
        CaseResult fanOut = rows.Single(r => r.Subscribers == 8);
        Assert.That(fanOut.HubOverRaw, Is.Null);
        Assert.That(fanOut.Error, Is.Null, "the latency run belongs to the first fan-out");
        Assert.That(rows.Single(r => r.Path == "hub" && r.Subscribers == 1).Error, Is.EqualTo("latency: timed out"));
    }
}
