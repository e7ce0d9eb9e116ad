using System.Diagnostics;

namespace IpcCore.Tests.Infrastructure;

/// <summary>
/// A second process for cross-process tests: IpcCore.TestPeer, started with a command and its
/// arguments. It is ended by pid (never by name) when disposed.
/// </summary>
internal sealed class Peer : IDisposable
{
    private readonly Process _process;

    private Peer(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Starts <c>dotnet IpcCore.TestPeer.dll command args...</c> with stdin/stdout redirected.</summary>
    public static Peer Start(string command, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "IpcCore.TestPeer.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(command);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return new Peer(Process.Start(psi) ?? throw new InvalidOperationException("could not start IpcCore.TestPeer"));
    }

    /// <summary>Reads one line the peer wrote (e.g. "ready"), failing after <paramref name="timeout"/>.</summary>
    public string ReadLine(TimeSpan timeout)
    {
        Task<string?> line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(timeout))
        {
            throw new TimeoutException($"peer {Pid} wrote no line within {timeout}; stderr: {StandardErrorSoFar()}");
        }
        return line.Result ?? throw new EndOfStreamException($"peer {Pid} closed stdout; stderr: {StandardErrorSoFar()}");
    }

    /// <summary>Writes one line to the peer's stdin.</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the peer to exit and returns its exit code; fails after <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"peer {Pid} did not exit within {timeout}; stderr: {StandardErrorSoFar()}");
        }
        return _process.ExitCode;
    }

    public string StandardErrorSoFar()
        => _process.HasExited ? _process.StandardError.ReadToEnd() : "(still running)";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}
