using System.Diagnostics;
using IpcCore.Cli;
using MyIpcBench.Model;
using MyIpcBench.Reporting;
using MyIpcBench.Running;

namespace MyIpcBench;

/// <summary>Plans the cases, runs them one after the other (each with its own processes), merges and reports.</summary>
internal sealed class Orchestrator(CliTool tool, BenchSettings settings)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where myipcbench itself is");
        string hub = HubLocator.FindHub(settings.HubPath);
        List<BenchCase> cases = CasePlanner.Plan(settings, settings.Backends.Contains(IpcCore.Protocol.TransportKind.MessageQueue)
            ? IpcCore.MessageQueue.Limits.MaxMessageSize : null);
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();

        string runDirectory = Path.Combine(Path.GetTempPath(), $"myipcbench.{Environment.ProcessId}");
        Directory.CreateDirectory(runDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var measurements = new List<CaseMeasurement>();
        try
        {
            var runner = new CaseRunner(self, hub, runDirectory, settings.WarmupMilliseconds);
            using var progress = new ProgressDisplay(settings.Progress, Console.Error);
            progress.Start(cases.Count);
            foreach (BenchCase c in cases)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress.Begin(c);
                CaseMeasurement m = await Task.Run(() => runner.Run(c, cancellationToken), cancellationToken).ConfigureAwait(false);
                measurements.Add(m);
                progress.End(c, m.Summary);
            }
        }
        finally
        {
            TryDelete(runDirectory);
        }

        List<CaseResult> results = ResultMerger.Merge(measurements);
        var info = new BenchRunInfo(MachineFacts.Read(), settings, started, clock.Elapsed);
        if (settings.Json)
        {
            JsonReport.Write(Console.Out, results);
        }
        else if (settings.Csv)
        {
            CsvReport.Write(Console.Out, results);
        }
        else
        {
            TextReport.Write(Console.Out, info, results);
        }
        await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (settings.ChartPath is not null)
        {
            ChartReport.Save(settings.ChartPath, info, results);
            tool.Status($"Chart written to {settings.ChartPath}");
        }
        int failed = results.Count(r => r.Error is not null);
        if (failed > 0)
        {
            tool.Error($"{failed} of {results.Count} cases failed (see the table)");
            return ExitCodes.RuntimeError;
        }
        return ExitCodes.Success;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
