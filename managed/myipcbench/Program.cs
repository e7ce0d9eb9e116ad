using System.CommandLine;
using IpcCore.Cli;
using MyIpcBench;

var tool = new CliTool("myipcbench");
var options = new BenchOptions();
var root = new RootCommand(
    "Measures every transport of the IpcCore hub, through the hub (publisher process → hub → subscriber processes) " +
    "and as the raw mechanism between two processes, and prints throughput, latency and the hub's cost (hub / raw).\n\n" +
    ExitCodes.HelpText);
options.AddTo(root);

var worker = new Command("worker", "A measuring process started by myipcbench itself (internal).") { Hidden = true };
worker.Subcommands.Add(MyIpcBench.Workers.HubWorkerCommand.Create());
worker.Subcommands.Add(MyIpcBench.Raw.RawCommand.Create());
root.Subcommands.Add(worker);
// With subcommands the root needs an action of its own to run alone; CliRunner runs the real one (with signal handling).
root.SetAction(_ => ExitCodes.Success);

return CliRunner.Run(tool, root, args, (parseResult, cancellationToken) =>
    new Orchestrator(tool, options.Read(parseResult)).RunAsync(cancellationToken));
