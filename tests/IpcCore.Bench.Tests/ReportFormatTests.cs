using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class ReportFormatTests
{
    private static readonly string[] BriefOrder =
    [
        "shm/futex/hub", "shm/futex/raw", "shm/semaphore/hub",
        "socket//hub", "socket//raw",
        "mqueue//hub", "mqueue//raw",
        "fifo//hub", "fifo//raw",
        "pipe//hub", "pipe//raw",
    ];

    [TestCase(2100, "2.1 GB/sec")]
    [TestCase(1000, "1.0 GB/sec")]
    [TestCase(12345, "12.3 GB/sec")]
    [TestCase(850, "850 MB/sec")]
    [TestCase(42.5, "42.5 MB/sec")]
    [TestCase(0.85, "0.85 MB/sec")]
    public void Throughput_switches_to_GB_at_1000_MB(double mbPerS, string expected) =>
        Assert.That(ReportFormat.Throughput(mbPerS), Is.EqualTo(expected));

    [TestCase(1_234_567, "1.23 M/s")]
    [TestCase(456_000, "456 k/s")]
    [TestCase(45_600, "45.6 k/s")]
    [TestCase(950, "950 /s")]
    public void Rate_uses_M_and_k(double msgsPerS, string expected) =>
        Assert.That(ReportFormat.Rate(msgsPerS), Is.EqualTo(expected));

    [TestCase(0.5, "0.5 us")]
    [TestCase(0.04, "0.04 us")]
    [TestCase(12.34, "12.3 us")]
    [TestCase(345.6, "346 us")]
    [TestCase(1234, "1.2 ms")]
    [TestCase(2_500_000, "2.50 s")]
    public void Latency_keeps_sensible_precision(double us, string expected) =>
        Assert.That(ReportFormat.Latency(us), Is.EqualTo(expected));

    [TestCase(64, "64B")]
    [TestCase(1024, "1KB")]
    [TestCase(65536, "64KB")]
    [TestCase(1048576, "1MB")]
    [TestCase(1500, "1500B")]
    public void Size_is_spelled_as_in_the_brief(int bytes, string expected) =>
        Assert.That(ReportFormat.Size(bytes), Is.EqualTo(expected));

    [TestCase(1_000_000, "1M")]
    [TestCase(1_500_000, "1.5M")]
    [TestCase(20_000, "20k")]
    [TestCase(500, "500")]
    public void Count_is_short(long n, string expected) =>
        Assert.That(ReportFormat.Count(n), Is.EqualTo(expected));

    [Test]
    public void Ratio_has_two_decimals_and_a_times_sign() =>
        Assert.That(ReportFormat.Ratio(0.6234), Is.EqualTo("0.62×"));

    [Test]
    public void Formatting_ignores_the_current_culture()
    {
        string text = TestData.WithDecimalComma(() => ReportFormat.Throughput(2100) + " " + ReportFormat.Latency(12.34));

        Assert.That(text, Is.EqualTo("2.1 GB/sec 12.3 us"));
    }

    [Test]
    public void Rows_are_ordered_as_the_brief_with_hub_before_raw()
    {
        List<string> order = [.. ReportFormat.Ordered(TestData.Results()).Select(r => $"{r.Transport}/{r.Variant}/{r.Path}")];

        Assert.That(order, Is.EqualTo(BriefOrder));
    }
}
