using MyIpcBench.Model;
using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class TextReportTests
{
    [Test]
    public void Has_the_brief_header_and_the_machine_facts()
    {
        string text = Write(TestData.Results());

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.StartWith("IPC Mechanism Benchmark (1M messages, 1KB each)"));
            Assert.That(text, Does.Contain("Test CPU 9000, 8 logical cores, virtual machine"));
            Assert.That(text, Does.Contain("kernel 6.1.0-test"));
            Assert.That(text, Does.Contain("Test Linux 1.0"));
            Assert.That(text, Does.Contain("16.0 GiB RAM"));
            Assert.That(text, Does.Contain(".NET 10.0.0"));
            Assert.That(text, Does.Contain("took 1m 35s"));
        });
    }

    [Test]
    public void Lists_every_transport_in_the_brief_order()
    {
        string text = Write(TestData.Results());
        string[] titles = ["Shared Memory (futex)", "UNIX Socket", "POSIX MQueue", "Named Pipe (FIFO)", "Anonymous Pipe"];

        int[] positions = [.. titles.Select(t => text.IndexOf(t, StringComparison.Ordinal))];

        Assert.That(positions, Has.All.GreaterThan(0));
        Assert.That(positions, Is.Ordered);
    }

    [Test]
    public void Shows_throughput_in_GB_per_second_from_1000_MB()
    {
        string text = Write(TestData.Results());

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("2.1 GB/sec"));
            Assert.That(text, Does.Contain("850 MB/sec"));
            Assert.That(text, Does.Contain("0.62×"));
            Assert.That(text, Does.Contain("0.5 us"));
        });
    }

    [Test]
    public void A_failed_case_shows_its_error_and_a_missing_figure_a_dash()
    {
        string text = Write(TestData.Results());
        string[] lines = text[..text.IndexOf("Hub allocations", StringComparison.Ordinal)].Split('\n');

        string failed = lines.Single(l => l.StartsWith("POSIX MQueue", StringComparison.Ordinal) && l.Contains(" hub ", StringComparison.Ordinal));
        string semaphore = lines.Single(l => l.StartsWith("Shared Memory (semaphore)", StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(failed, Does.EndWith("failed: " + TestData.CommaError));
            Assert.That(semaphore, Does.Contain(" - "));
        });
    }

    [Test]
    public void Table_columns_line_up()
    {
        string[] lines = Write(TestData.Results()).Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith("Mechanism", StringComparison.Ordinal));
        int throughputEnd = lines[header].IndexOf("Throughput", StringComparison.Ordinal) + "Throughput".Length;

        string[] rows = [.. lines.Skip(header + 2).TakeWhile(l => l.Length > 0).Where(l => !l.Contains("failed:", StringComparison.Ordinal))];

        Assert.That(rows, Has.Length.EqualTo(10));
        // Throughput is right-aligned: every figure ends under the header's last letter.
        Assert.That(rows.Select(r => r[throughputEnd - 1]), Has.All.EqualTo('c'));
    }

    [Test]
    public void Recommendations_follow_the_figures()
    {
        string text = Write(TestData.Results());

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("Recommendation:"));
            Assert.That(text, Does.Contain("  High throughput: Use shared memory"));
            Assert.That(text, Does.Contain("  Lowest latency: Use shared memory"));
            Assert.That(text, Does.Contain("  Simplicity: Use UNIX sockets"));
            Assert.That(text, Does.Contain("  Message boundaries: Use POSIX message queues"));
            Assert.That(text, Does.Contain("  Passing descriptors: Use UNIX sockets (SCM_RIGHTS)"));
            Assert.That(text, Does.Contain(BenchRunInfo.LatencyMethod));
        });
    }

    [Test]
    public void Recommendation_picks_the_best_hub_transport_at_the_largest_size()
    {
        List<CaseResult> results =
        [
            TestData.Row("shm", "Shared Memory", "hub", 900, 5, variant: "futex", size: 64),
            TestData.Row("socket", "UNIX Socket", "hub", 300, 2, size: 64),
            TestData.Row("shm", "Shared Memory", "hub", 1500, null, variant: "futex", size: 65536),
            TestData.Row("socket", "UNIX Socket", "hub", 2500, null, size: 65536),
            TestData.Row("shm", "Shared Memory", "raw", 9000, 0.1, variant: "futex", size: 65536),
        ];

        List<string> lines = TextReport.Recommendations(results);

        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Does.StartWith("High throughput: Use UNIX sockets"));
            Assert.That(lines[1], Does.StartWith("Lowest latency: Use UNIX sockets"));
        });
    }

    [Test]
    public void Recommendation_falls_back_to_raw_rows()
    {
        List<CaseResult> results =
        [
            TestData.Row("fifo", "Named Pipe (FIFO)", "raw", 350, 4.4),
            TestData.Row("mqueue", "POSIX MQueue", "raw", 420, 3.9),
        ];

        List<string> lines = TextReport.Recommendations(results);

        Assert.That(lines[0], Does.StartWith("High throughput: Use POSIX message queues"));
    }

    [Test]
    public void Hub_allocations_are_listed_for_hub_rows()
    {
        string text = Write(TestData.Results());
        string section = text[text.IndexOf("Hub allocations", StringComparison.Ordinal)..];

        Assert.Multiple(() =>
        {
            Assert.That(section, Does.Contain("Gen0 GCs"));
            Assert.That(section, Does.Contain("0.50"));
        });
    }

    [Test]
    public void Title_names_every_size_and_the_largest_count()
    {
        List<CaseResult> results =
        [
            TestData.Row("shm", "Shared Memory", "hub", 900, 5, size: 64) with { Messages = 500_000 },
            TestData.Row("shm", "Shared Memory", "hub", 900, 5, size: 65536),
        ];

        Assert.That(TextReport.Title(results), Is.EqualTo("IPC Mechanism Benchmark (up to 1M messages, 64B, 64KB each)"));
    }

    [Test]
    public void An_empty_run_still_writes_a_report()
    {
        string text = Write([]);

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.StartWith("IPC Mechanism Benchmark"));
            Assert.That(text, Does.Contain("No cases were run."));
            Assert.That(text, Does.Contain("Simplicity: Use UNIX sockets"));
        });
    }

    private static string Write(IReadOnlyList<CaseResult> results)
    {
        using var writer = new StringWriter { NewLine = "\n" };
        TextReport.Write(writer, TestData.Run(), results);
        return writer.ToString();
    }
}
