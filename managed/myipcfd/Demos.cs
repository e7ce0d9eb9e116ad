using System.CommandLine;
using IpcCore.Cli;

namespace MyIpcFd;

/// <summary>Runs what the command line asks for: a demo, both, or a helper's side of one.</summary>
internal sealed class Demos(CliTool tool, FdOptions options)
{
    public async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        Command command = parseResult.CommandResult.Command;
        string transport = parseResult.GetValue(options.Transport) ?? "socket";
        string? directory = parseResult.GetValue(options.Directory);

        if (command == options.Reader || command == options.Receiver)
        {
            string hubDirectory = directory ?? throw new UsageException($"{command.Name}: --dir is required");
            return command == options.Reader
                ? await PermissionsDemo.ReaderAsync(tool, hubDirectory, Backends.Parse(transport), parseResult.GetValue(options.Channel)!,
                    parseResult.GetValue(options.FilePath)!, parseResult.GetValue(options.Expect)!, cancellationToken).ConfigureAwait(false)
                : await TransferDemo.ReceiverAsync(tool, hubDirectory, Backends.Parse(transport), parseResult.GetValue(options.Prefix)!,
                    parseResult.GetValue(options.ReceiverSize), cancellationToken).ConfigureAwait(false);
        }

        bool permissions = command != options.Transfer;
        bool transfer = command != options.Permissions;
        long size = command == options.Transfer && parseResult.GetValue(options.Size) is > 0 and long given ? given : FdOptions.DefaultSize;

        using DemoHub hub = await DemoHub.StartAsync(tool, directory, parseResult.GetValue(options.Hub), transport, cancellationToken).ConfigureAwait(false);
        int failed = 0;
        if (permissions)
        {
            failed += await PermissionsDemo.RunAsync(tool, hub, cancellationToken).ConfigureAwait(false) == ExitCodes.Success ? 0 : 1;
        }
        if (transfer)
        {
            if (permissions)
            {
                Console.Out.WriteLine();
            }
            failed += await TransferDemo.RunAsync(tool, hub, size, cancellationToken).ConfigureAwait(false) == ExitCodes.Success ? 0 : 1;
        }
        return failed == 0 ? ExitCodes.Success : ExitCodes.RuntimeError;
    }
}
