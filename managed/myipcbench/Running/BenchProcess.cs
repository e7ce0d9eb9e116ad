using System.Runtime.InteropServices;
using IpcCore;

namespace MyIpcBench.Running;

/// <summary>
/// A process the benchmark started (the hub or a worker): started with posix_spawn through the shim, its
/// output in log files, ended only by its pid. Disposing kills it if it still runs.
/// </summary>
internal sealed class BenchProcess : IDisposable
{
    private readonly SpawnedProcess _process;
    private ProcessExit? _exit;

    private BenchProcess(string name, SpawnedProcess process, string stderrPath)
    {
        Name = name;
        _process = process;
        StderrPath = stderrPath;
    }

    public string Name { get; }

    public int Pid => _process.Pid;

    public string StderrPath { get; }

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="arguments"/> (exec'd by /bin/sh, so the pid is the
    /// program's). Null stdin is /dev/null; null stdout goes to <paramref name="logPrefix"/>.out, stderr always to .err.
    /// </summary>
    public static BenchProcess Start(string name, string program, IEnumerable<string> arguments, string logPrefix,
        SafeHandle? standardInput = null, SafeHandle? standardOutput = null)
    {
        using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        using var stdout = standardOutput is null ? File.OpenHandle(logPrefix + ".out", FileMode.Create, FileAccess.Write) : null;
        using var stderr = File.OpenHandle(logPrefix + ".err", FileMode.Create, FileAccess.Write);
        SpawnedProcess process = SpawnedProcess.Start(SpawnedProcess.ExecCommand(program, arguments), standardInput ?? devNull, standardOutput ?? stdout, stderr,
            newProcessGroup: false);
        return new BenchProcess(name, process, logPrefix + ".err");
    }

    /// <summary>Whether it has exited (reaps it then).</summary>
    public bool HasExited => _exit is not null || TryReap();

    /// <summary>How it exited, once it has.</summary>
    public ProcessExit? Exit => _exit;

    /// <summary>Waits up to <paramref name="timeout"/>; true when it exited.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (_exit is not null)
        {
            return true;
        }
        if (_process.WaitForExit(timeout, out ProcessExit exit))
        {
            _exit = exit;
            return true;
        }
        return false;
    }

    /// <summary>Sends <paramref name="signal"/> to this process (by pid), unless it has exited.</summary>
    public void Signal(int signal)
    {
        if (!HasExited)
        {
            _process.Signal(signal);
        }
    }

    /// <summary>Asks it to stop (SIGTERM), then kills it (SIGKILL) if it has not exited after <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        if (!HasExited)
        {
            _exit = _process.Stop(grace, TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>The last lines of its stderr, for an error message.</summary>
    public string StderrTail(int maxLines = 5)
    {
        try
        {
            string[] lines = File.ReadAllLines(StderrPath);
            return string.Join(" | ", lines.Where(l => l.Length > 0).TakeLast(maxLines));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>"exited with code 1" or "was killed by SIGSEGV".</summary>
    public string DescribeExit() => _exit is { } e ? e.ToString() : "is still running";

    public void Dispose()
    {
        if (!HasExited)
        {
            _process.Signal(9);
            WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }

    private bool TryReap()
    {
        if (_process.TryReap(out ProcessExit exit))
        {
            _exit = exit;
            return true;
        }
        return false;
    }

}
