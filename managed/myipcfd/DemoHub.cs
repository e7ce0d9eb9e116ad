using System.Globalization;
using IpcCore;
using IpcCore.Cli;
using IpcCore.Client;
using IpcCore.Protocol;
using Microsoft.Win32.SafeHandles;

namespace MyIpcFd;

/// <summary>
/// The hub the demos go through: the one running on <c>--dir</c>, or else a <c>myipchub</c> of their own in a
/// new temporary directory, which <see cref="Dispose"/> ends by its pid (SIGTERM, SIGKILL if it lingers) and removes.
/// </summary>
internal sealed class DemoHub : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(10);

    private readonly CliTool _tool;
    private readonly SpawnedProcess? _process;
    private readonly string? _runDirectory;

    private DemoHub(CliTool tool, string directory, TransportKind transport, string transportName, SpawnedProcess? process, string? runDirectory)
    {
        _tool = tool;
        Directory = directory;
        Transport = transport;
        TransportName = transportName;
        _process = process;
        _runDirectory = runDirectory;
    }

    /// <summary>The hub directory (where hub.sock is).</summary>
    public string Directory { get; }

    /// <summary>The transport every client of the demo asks for.</summary>
    public TransportKind Transport { get; }

    /// <summary>Its --transport name: socket or pipe.</summary>
    public string TransportName { get; }

    /// <summary>Uses the hub on <paramref name="directory"/>, or starts one (<paramref name="hubPath"/> or found) when it is null.</summary>
    public static async Task<DemoHub> StartAsync(CliTool tool, string? directory, string? hubPath, string transportName, CancellationToken cancellationToken)
    {
        TransportKind transport = Backends.Parse(transportName);
        if (directory is not null)
        {
            return new DemoHub(tool, Path.GetFullPath(directory), transport, transportName, null, null);
        }
        string hub = HubLocator.FindHub(hubPath);
        string run = System.IO.Directory.CreateTempSubdirectory(string.Create(CultureInfo.InvariantCulture, $"myipcfd.{Environment.ProcessId}.")).FullName;
        string hubDirectory = Path.Combine(run, "hub");
        string log = Path.Combine(run, "hub.log");
        SpawnedProcess? process = null;
        try
        {
            using (SafeFileHandle devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read))
            using (SafeFileHandle logFile = File.OpenHandle(log, FileMode.CreateNew, FileAccess.Write))
            {
                string command = SpawnedProcess.ExecCommand(hub, ["--dir", hubDirectory, "--no-inbox", "--log-level", "warning"]);
                process = SpawnedProcess.Start(command, devNull, logFile, logFile, newProcessGroup: false);
            }
            await WaitForSocketAsync(hub, process, hubDirectory, log, cancellationToken).ConfigureAwait(false);
            tool.Status(string.Create(CultureInfo.InvariantCulture, $"Started myipchub (pid {process.Pid}) on {hubDirectory}"));
            return new DemoHub(tool, hubDirectory, transport, transportName, process, run);
        }
        catch
        {
            if (process is not null)
            {
                Stop(tool, process);
                process.Dispose();
            }
            RemoveDirectory(tool, run);
            throw;
        }
    }

    /// <summary>Connects a client of the demo (no reconnecting: a lost hub ends the demo).</summary>
    public Task<HubClient> ConnectAsync(CancellationToken cancellationToken) => ConnectHelperAsync(Directory, Transport, cancellationToken);

    public void Dispose()
    {
        if (_process is not null)
        {
            ProcessExit? exit = Stop(_tool, _process);
            _tool.Status(string.Create(CultureInfo.InvariantCulture, $"Stopped myipchub (pid {_process.Pid}): {exit?.ToString() ?? "still running"}"));
            _process.Dispose();
        }
        if (_runDirectory is not null)
        {
            RemoveDirectory(_tool, _runDirectory);
        }
    }

    private static async Task WaitForSocketAsync(string hub, SpawnedProcess process, string hubDirectory, string log, CancellationToken cancellationToken)
    {
        string socket = HubPaths.SocketPath(hubDirectory);
        long deadline = Environment.TickCount64 + (long)s_startTimeout.TotalMilliseconds;
        while (!File.Exists(socket))
        {
            if (process.TryReap(out ProcessExit exit))
            {
                throw new DemoFailedException($"{hub} {exit} before it listened on {socket}: {Tail(log)}");
            }
            if (Environment.TickCount64 > deadline)
            {
                throw new DemoFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"{hub} (pid {process.Pid}) did not create {socket} within {s_startTimeout.TotalSeconds:0} s: {Tail(log)}"));
            }
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM by pid, then SIGKILL if it has not exited after a grace period; returns how it ended.</summary>
    private static ProcessExit? Stop(CliTool tool, SpawnedProcess process)
    {
        try
        {
            return process.Stop(s_stopGrace, TimeSpan.FromSeconds(5));
        }
        catch (IpcException ex)
        {
            tool.Error($"cannot stop myipchub (pid {process.Pid}): {ex.Message}");
            return null;
        }
    }

    private static void RemoveDirectory(CliTool tool, string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            tool.Error($"cannot remove the temporary directory {directory}: {ex.Message}");
        }
    }

    private static string Tail(string log)
    {
        try
        {
            string[] lines = File.ReadAllLines(log);
            string tail = string.Join(" | ", lines.Where(l => l.Length > 0).TakeLast(5));
            return tail.Length > 0 ? tail : "(it printed nothing)";
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>How the demo's clients, and the helper processes (reader, receiver), connect: no reconnect (a lost hub ends the demo), 10 s to find it.</summary>
    public static Task<HubClient> ConnectHelperAsync(string hubDirectory, TransportKind transport, CancellationToken cancellationToken)
        => HubClient.ConnectAsync(new HubClientOptions
        {
            Directory = hubDirectory,
            Transport = transport,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            Reconnect = false,
        }, cancellationToken);
}
