using System.CommandLine;
using System.Runtime.InteropServices;
using IpcCore.Client;

namespace IpcCore.Cli;

/// <summary>
/// Runs a tool: parses (usage errors exit 2), shows --help, turns SIGINT/SIGTERM into cancellation (a
/// second signal ends the process at once), and prints failures as <c>tool: message</c> with exit code 1.
/// </summary>
public static class CliRunner
{
    /// <summary>Parses <paramref name="args"/> and runs <paramref name="action"/>; returns the exit code.</summary>
    public static int Run(CliTool tool, RootCommand command, string[] args, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(tool);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(action);

        ParseResult parseResult = command.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                tool.Error(OneLine(error.Message));
            }
            tool.Status($"Try '{tool.Name} --help'.");
            return ExitCodes.UsageError;
        }
        if (parseResult.Action is not null && parseResult.CommandResult.Command != command)
        {
            return parseResult.Invoke(); // --help, --version, a subcommand's own action
        }
        if (parseResult.Action is not null && parseResult.Action != command.Action)
        {
            return parseResult.Invoke(); // --help, --version on the root
        }

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (stop.IsCancellationRequested)
            {
                return; // a second signal: default handling ends the process
            }
            context.Cancel = true;
            stop.Cancel();
        }
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return action(parseResult, stop.Token).GetAwaiter().GetResult();
        }
        catch (UsageException ex)
        {
            tool.Error(ex.Message);
            return ExitCodes.UsageError;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (Exception ex) when (ex is HubConnectionException or HubException or IOException or UnauthorizedAccessException
            or NotSupportedException or ObjectDisposedException)
        {
            tool.Error(ex.Message);
            return ExitCodes.RuntimeError;
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
}
