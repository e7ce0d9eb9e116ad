using System.CommandLine;

namespace MyIpcBench.Workers;

/// <summary><c>myipcbench worker hub ...</c>: a publisher, subscriber or echo client of a hub case (started by the orchestrator).</summary>
internal static class HubWorkerCommand
{
    public static Command Create()
    {
        var command = new Command("hub", "One client of a hub case (internal).");
        command.SetAction(_ => 2);
        return command;
    }
}
