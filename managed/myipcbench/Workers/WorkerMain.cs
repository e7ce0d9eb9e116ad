using IpcCore;
using IpcCore.Client;
using MyIpcBench.Model;

namespace MyIpcBench.Workers;

/// <summary>Runs a worker: writes its report, turns failures into a report with Error, a stderr line and exit code 1.</summary>
internal static class WorkerMain
{
    public static async Task<int> RunAsync(string reportPath, string role, Func<CancellationToken, Task<WorkerReport>> run,
        CancellationToken cancellationToken)
    {
        WorkerReport report;
        try
        {
            report = await run(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IpcException or HubException or HubConnectionException or IOException
            or InvalidOperationException or OperationCanceledException or UnauthorizedAccessException)
        {
            report = new WorkerReport { Role = role, Error = ex.Message };
        }
        WorkerReportFile.Write(reportPath, report);
        if (report.Error is not null)
        {
            await Console.Error.WriteLineAsync($"myipcbench: {report.Error}").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }
}
