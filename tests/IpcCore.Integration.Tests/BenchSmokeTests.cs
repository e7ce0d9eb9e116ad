using System.Globalization;
using System.Text.Json;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// <c>myipcbench</c> as CI runs it: a quick smoke of every transport, through the hub and raw, both modes, with
/// small counts. Checks the JSON's shape and that every figure is there and positive; the speeds themselves
/// are measured by hand and recorded in docs/BENCHMARKS.md, never asserted.
/// </summary>
/// <remarks>Not parallel: its mqueue cases use full-size queues, and RLIMIT_MSGQUEUE (800 KiB per user) is shared.</remarks>
[TestFixture]
[NonParallelizable]
public sealed class BenchSmokeTests
{
    // Generous: the smoke shares two cores with the other test assemblies, which dotnet test runs at the same time.
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(6);
    private static readonly string[] s_transports = ["shm", "socket", "mqueue", "fifo", "pipe"];
    private static readonly string[] s_requiredNumbers = ["message_size", "subscribers", "msgs_per_s", "mb_per_s", "lat_avg_us", "lat_p50_us", "lat_p99_us"];

    private string _directory = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"ipccore-bench-test.{Environment.ProcessId}.{TestContext.CurrentContext.Test.ID}");
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void EveryTransport_HubAndRaw_ThroughputAndLatency_JsonAndChart()
    {
        HashSet<string> before = PosixLeaks.Snapshot();
        string chart = Path.Combine(_directory, "chart.png");
        ChildProcess bench = ChildProcess.Start(Tools.Bench,
        [
            "--iterations", "3000", "--round-trips", "200", "--warmup-ms", "20", "--spin-us", "0",
            "--json", "--no-progress", "--chart", chart,
        ]);
        int exit = bench.WaitForExit(s_runTimeout, "myipcbench should finish");
        Assert.That(exit, Is.Zero, bench.Describe());

        using JsonDocument json = JsonDocument.Parse(bench.StdoutText());
        Assert.That(json.RootElement.ValueKind, Is.EqualTo(JsonValueKind.Array), bench.Describe());
        var rows = json.RootElement.EnumerateArray().ToList();
        foreach (string transport in s_transports)
        {
            foreach (string path in (string[])["hub", "raw"])
            {
                var mine = rows.Where(r => r.GetProperty("transport").GetString() == transport && r.GetProperty("path").GetString() == path).ToList();
                // shm: futex and semaphore; the others once. (Spinning is smoked by the fan-out test: spinning
                // processes on a machine busy with the other tests only make this one slow.)
                int expected = transport == "shm" ? 2 : 1;
                Assert.That(mine, Has.Count.EqualTo(expected), $"{transport} {path} rows\n{bench.StdoutText()}");
                foreach (JsonElement row in mine)
                {
                    string what = $"{transport} {path} {row.GetProperty("variant").GetString()}";
                    Assert.That(row.GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null), $"{what}: {row}");
                    foreach (string key in s_requiredNumbers)
                    {
                        Assert.That(row.GetProperty(key).GetDouble(), Is.GreaterThan(0), $"{what}: {key} in {row}");
                    }
                    Assert.That(row.GetProperty("message_size").GetInt32(), Is.EqualTo(1024), what);
                    Assert.That(row.GetProperty("subscribers").GetInt32(), Is.EqualTo(1), what);
                    // MB is 10^6 bytes: the two throughput figures agree.
                    Assert.That(row.GetProperty("mb_per_s").GetDouble(), Is.EqualTo(row.GetProperty("msgs_per_s").GetDouble() * 1024 / 1e6).Within(0.1).Percent, what);
                    if (path == "hub")
                    {
                        Assert.That(row.GetProperty("hub_over_raw").GetDouble(), Is.GreaterThan(0), what);
                    }
                }
            }
        }

        byte[] png = File.ReadAllBytes(chart);
        Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "the chart is a PNG");
        Assert.That(Directory.Exists(Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"myipcbench.{bench.Pid}"))), Is.False,
            "the run directory is removed");
        var left = PosixLeaks.Snapshot().Except(before).Where(n => n.Contains("ipcbench", StringComparison.Ordinal)).ToList();
        Assert.That(left, Is.Empty, "raw objects left in /dev/shm or /dev/mqueue");
    }

    [Test]
    public void FanOut_ThroughputOnly_HubOnly_WithSpin_CountsEverySubscriber()
    {
        ChildProcess bench = ChildProcess.Start(Tools.Bench,
            ["--iterations", "2000", "--warmup-ms", "20", "--backends", "shm,socket", "--subscribers", "3", "--mode", "throughput",
             "--path", "hub", "--shm-wake", "futex", "--spin-us", "20", "--csv", "--no-progress"]);
        Assert.That(bench.WaitForExit(s_runTimeout, "myipcbench should finish"), Is.Zero, bench.Describe());
        var lines = bench.StdoutLines().Where(l => l.Length > 0).ToList();
        Assert.That(lines, Has.Count.EqualTo(3), bench.Describe()); // the header and two rows
        string[] header = lines[0].Split(',');
        int subscribers = Array.IndexOf(header, "subscribers"), mbPerS = Array.IndexOf(header, "mb_per_s"), latency = Array.IndexOf(header, "lat_p50_us");
        foreach (string line in lines.Skip(1))
        {
            string[] cells = line.Split(',');
            Assert.That(cells[subscribers], Is.EqualTo("3"), line);
            Assert.That(double.Parse(cells[mbPerS], CultureInfo.InvariantCulture), Is.GreaterThan(0), line);
            Assert.That(cells[latency], Is.Empty, "no latency run in throughput mode: " + line);
        }
    }

    [TestCase("--message-size", "8", "--message-size")]
    [TestCase("--backends", "shm,carrier-pigeon", "carrier-pigeon")]
    [TestCase("--mode", "fast", "--mode")]
    public void UsageErrors_NameTheOption_ExitTwo(string option, string value, string named)
    {
        ChildProcess bench = ChildProcess.Start(Tools.Bench, [option, value, "--no-progress"]);
        Assert.That(bench.WaitForExit(TimeSpan.FromSeconds(30), "myipcbench should refuse"), Is.EqualTo(2), bench.Describe());
        Assert.That(bench.StderrText(), Does.Contain(named), bench.Describe());
        Assert.That(bench.StdoutText(), Is.Empty, bench.Describe());
    }
}
