using IpcCore.Protocol;
using MyIpcBench.Model;
using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class ProgressDisplayTests
{
    private static readonly BenchCase ShmCase = new(TransportKind.SharedMemory, BenchPath.Hub, 1024, 1, BenchMode.Throughput, 1000);
    private static readonly BenchCase SocketCase = new(TransportKind.Socket, BenchPath.Raw, 64, 1, BenchMode.Latency, 1000);

    private static readonly string[] ExpectedLines =
    [
        "[1/2] shm(futex) hub 1024 B 1→1 throughput: 2.31 GB/s",
        "[2/2] socket raw 64 B 1→1 latency: failed: timed out",
    ];

    [Test]
    public void Non_interactive_prints_one_line_per_finished_case()
    {
        using var output = new StringWriter { NewLine = "\n" };
        using (var progress = new ProgressDisplay(interactive: false, output))
        {
            progress.Start(2);
            progress.Begin(ShmCase);
            progress.Update(0.5);
            progress.End(ShmCase, "2.31 GB/s");
            progress.Begin(SocketCase);
            progress.End(SocketCase, "failed: timed out");
            Assert.That(progress.IsLive, Is.False);
        }

        Assert.That(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(ExpectedLines));
    }

    [Test]
    public void Calls_after_dispose_are_ignored()
    {
        using var output = new StringWriter();
        var progress = new ProgressDisplay(interactive: false, output);
        progress.Start(1);
        progress.Dispose();

        progress.Begin(ShmCase);
        progress.Update(1);
        progress.End(ShmCase, "done");
        progress.Dispose();

        Assert.That(output.ToString(), Is.Empty);
    }

    [Test]
    public void Start_twice_is_an_error()
    {
        using var output = new StringWriter();
        using var progress = new ProgressDisplay(interactive: false, output);
        progress.Start(1);

        Assert.Throws<InvalidOperationException>(() => progress.Start(1));
    }

    [Test]
    public void Cases_may_finish_on_several_threads()
    {
        using var output = new StringWriter { NewLine = "\n" };
        using (var progress = new ProgressDisplay(interactive: false, output))
        {
            progress.Start(100);
            Parallel.For(0, 100, _ => progress.End(ShmCase, "ok"));
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(100));
        Assert.That(lines, Is.Unique);
    }

    [Test]
    public void Interactive_display_starts_and_stops_without_leaving_anything_running()
    {
        // A StringWriter is no terminal; the live display must still start, show the cases and end cleanly.
        using var fallback = new StringWriter();
        using var live = new StringWriter();
        var progress = new ProgressDisplay(interactive: true, fallback, live);
        progress.Start(2);
        Assert.That(progress.IsLive, Is.True);
        progress.Begin(ShmCase);
        progress.Update(0.5);
        progress.End(ShmCase, "2.31 GB/s");

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        progress.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(4)));
            Assert.That(progress.IsLive, Is.False);
            Assert.That(live.ToString(), Does.Contain("[1/2] shm(futex) hub 1024 B 1→1 throughput: 2.31 GB/s"));
            Assert.That(fallback.ToString(), Is.Empty);
        });
    }

    [Test]
    public void Disposing_in_the_middle_of_a_case_ends_the_display()
    {
        using var fallback = new StringWriter();
        using var live = new StringWriter();
        var progress = new ProgressDisplay(interactive: true, fallback, live);
        progress.Start(3);
        progress.Begin(SocketCase);

        // As when a case throws and the caller's using block unwinds.
        var dispose = Task.Run(progress.Dispose);

        Assert.That(dispose.Wait(TimeSpan.FromSeconds(4)), Is.True);
    }
}
