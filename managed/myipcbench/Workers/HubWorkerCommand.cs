using System.CommandLine;
using IpcCore.Cli;
using MyIpcBench.Model;

namespace MyIpcBench.Workers;

/// <summary><c>myipcbench worker hub ...</c>: a publisher or subscriber of a hub case (started by the orchestrator).</summary>
internal static class HubWorkerCommand
{
    public static Command Create()
    {
        var role = new Option<string>("--role") { Required = true, Description = "pub or sub." };
        role.AcceptOnlyFromAmong("pub", "sub");
        var backend = new Option<string>("--backend") { Required = true };
        backend.AcceptOnlyFromAmong(Backends.Names);
        var dir = new Option<string>("--dir") { Required = true };
        var channel = new Option<string>("--channel") { Required = true };
        var mode = new Option<BenchMode>("--mode") { Required = true };
        var size = new Option<int>("--size") { Required = true };
        var count = new Option<long>("--count") { Required = true };
        var subscribers = new Option<int>("--subscribers") { DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup-ms") { DefaultValueFactory = _ => (int)(Stamp.WarmupNs / 1_000_000) };
        var spin = new Option<int>("--spin-us");
        var report = new Option<string>("--report") { Required = true };
        var ready = new Option<string?>("--ready");
        var command = new Command("hub", "One client of a hub case (internal).")
        {
            role, backend, dir, channel, mode, size, subscribers, count, warmup, spin, report, ready,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var settings = new HubWorkerSettings(
                parseResult.GetValue(role)!,
                Backends.Parse(parseResult.GetValue(backend)!),
                parseResult.GetValue(dir)!,
                parseResult.GetValue(channel)!,
                parseResult.GetValue(mode),
                parseResult.GetValue(size),
                parseResult.GetValue(subscribers),
                parseResult.GetValue(count),
                parseResult.GetValue(warmup) * 1_000_000L,
                parseResult.GetValue(spin),
                parseResult.GetValue(report)!,
                parseResult.GetValue(ready));
            return WorkerMain.RunAsync(settings.ReportPath, settings.Role, async ct =>
            {
                using var worker = new HubWorker(settings);
                return await worker.RunAsync(ct).ConfigureAwait(false);
            }, cancellationToken);
        });
        return command;
    }
}
