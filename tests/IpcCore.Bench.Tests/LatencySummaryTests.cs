using MyIpcBench.Model;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class LatencySummaryTests
{
    [Test]
    public void Percentiles_of_1_to_1000_are_the_nearest_ranks()
    {
        long[] samples = [.. Enumerable.Range(1, 1000).Select(i => (long)i).Reverse()];

        LatencySummary? summary = LatencySummary.Of(samples);

        Assert.That(summary, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(summary!.Count, Is.EqualTo(1000));
            Assert.That(summary.MinNs, Is.EqualTo(1));
            Assert.That(summary.P50Ns, Is.EqualTo(500));
            Assert.That(summary.P99Ns, Is.EqualTo(990));
            Assert.That(summary.P999Ns, Is.EqualTo(999));
            Assert.That(summary.MaxNs, Is.EqualTo(1000));
            Assert.That(summary.AvgNs, Is.EqualTo(500.5).Within(1e-9));
        });
    }

    [Test]
    public void One_sample_is_every_percentile()
    {
        LatencySummary? summary = LatencySummary.Of(new long[] { 42 });

        Assert.That(summary, Is.EqualTo(new LatencySummary(1, 42, 42, 42, 42, 42, 42)));
    }

    [Test]
    public void No_samples_give_no_summary()
    {
        Assert.That(LatencySummary.Of(Span<long>.Empty), Is.Null);
    }

    [Test]
    public void Ten_samples_put_p99_and_p999_on_the_largest()
    {
        long[] samples = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

        LatencySummary summary = LatencySummary.Of(samples)!;

        Assert.Multiple(() =>
        {
            Assert.That(summary.P50Ns, Is.EqualTo(50));
            Assert.That(summary.P99Ns, Is.EqualTo(100));
            Assert.That(summary.P999Ns, Is.EqualTo(100));
        });
    }

    [Test]
    public void Recorder_drops_samples_beyond_its_capacity()
    {
        var recorder = new LatencyRecorder(3);
        foreach (long s in new long[] { 5, 1, 9, 100 })
        {
            recorder.Record(s);
        }

        Assert.Multiple(() =>
        {
            Assert.That(recorder.Count, Is.EqualTo(3));
            Assert.That(recorder.Summarize()!.MaxNs, Is.EqualTo(9));
        });
    }
}
