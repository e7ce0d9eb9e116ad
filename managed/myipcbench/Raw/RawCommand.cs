using System.CommandLine;

namespace MyIpcBench.Raw;

/// <summary><c>myipcbench worker raw ...</c>: one side of a raw-mechanism case (started by the orchestrator).</summary>
internal static class RawCommand
{
    public static Command Create()
    {
        var command = new Command("raw", "One side of a raw mechanism case, no hub (internal).");
        command.SetAction(_ => 2);
        return command;
    }
}
