using System.CommandLine;
using System.Globalization;
using IpcCore;
using IpcCore.Hub;

namespace MyIpcHub;

/// <summary>
/// <c>myipchub gc [--dir DIR] [--dry-run]</c>: removes what hubs that are no longer running left behind
/// (<see cref="StaleObjects"/>). One stdout line per object, then a summary; failures and warnings on stderr.
/// Exit 0, or 1 when an object could not be removed.
/// </summary>
internal static class GcCommand
{
    private const string Tool = "myipchub";
    private const int ExitOk = 0;
    private const int ExitRuntimeError = 1;

    public static Command Create()
    {
        var dir = new Option<string?>("--dir")
        {
            Description = "The hub directory whose FIFOs and files to check (default: $IPCHUB_DIR, else $XDG_RUNTIME_DIR/ipchub, else /tmp/ipchub-<uid>).",
            HelpName = "DIR",
        };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Only list what would be removed.",
        };
        var command = new Command("gc",
            "Remove the IPC objects of hubs that are no longer running (killed, crashed): /dev/shm/ipchub.<pid>.* (shared memory), " +
            "/dev/shm/sem.ipchub.<pid>.* (semaphores), /dev/mqueue/ipchub.<pid>.* (message queues) and DIR/ipchub.<pid>.* (FIFOs) " +
            "whose pid no longer exists, and DIR's publish.fifo, hub.sock (if nobody listens on it) and hub.lock when no hub holds " +
            "the lock. A running hub's objects are never touched. Prints 'removed PATH (KIND; REASON)' per object ('would remove' " +
            "with --dry-run), then a summary. Exit codes: 0 done, 1 an object could not be removed (stderr says why), 2 usage error.")
        {
            dir, dryRun,
        };
        command.SetAction(result => Run(result.GetValue(dir), result.GetValue(dryRun), Console.Out, Console.Error));
        return command;
    }

    internal static int Run(string? directory, bool dryRun, TextWriter stdout, TextWriter stderr)
    {
        StaleSweepResult result;
        try
        {
            result = StaleObjects.Sweep(HubPaths.ResolveDirectory(directory), includeDirectoryFiles: true, dryRun);
        }
        catch (Exception e) when (e is IpcException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{Tool}: gc: {e.Message}");
            return ExitRuntimeError;
        }
        foreach (string warning in result.Warnings)
        {
            stderr.WriteLine($"{Tool}: warning: {warning}");
        }
        string verb = dryRun ? "would remove" : "removed";
        foreach (StaleObject o in result.Objects)
        {
            stdout.WriteLine($"{verb} {o}");
        }
        foreach (StaleObjectFailure failure in result.Failures)
        {
            stderr.WriteLine($"{Tool}: cannot remove {failure.Object}: {failure.Message}");
        }
        stdout.WriteLine(Summary(result));
        stdout.Flush();
        stderr.Flush();
        return result.Failures.Count == 0 ? ExitOk : ExitRuntimeError;
    }

    /// <summary><c>3 stale objects removed</c>, <c>1 stale object would be removed</c>, <c>nothing to clean</c>, with the failures.</summary>
    internal static string Summary(StaleSweepResult result)
    {
        int done = result.Objects.Count;
        int failed = result.Failures.Count;
        if (done == 0 && failed == 0)
        {
            return "nothing to clean";
        }
        string objects = string.Create(CultureInfo.InvariantCulture, $"{done} stale object{(done == 1 ? "" : "s")}");
        string summary = result.DryRun ? $"{objects} would be removed" : $"{objects} removed";
        return failed == 0 ? summary : string.Create(CultureInfo.InvariantCulture, $"{summary}, {failed} could not be removed");
    }
}
