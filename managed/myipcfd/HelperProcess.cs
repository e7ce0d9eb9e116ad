using System.Globalization;
using System.Text;
using IpcCore;
using Microsoft.Win32.SafeHandles;

namespace MyIpcFd;

/// <summary>
/// This program started again as a helper (<c>myipcfd reader ...</c>, <c>myipcfd receiver ...</c>) with
/// posix_spawn: its stdout comes through a pipe, and each line is printed here as it arrives, except
/// <c>ready</c>, which says it has subscribed. Its stderr is this process's. It is ended only by its pid.
/// </summary>
internal sealed class HelperProcess : IDisposable
{
    /// <summary>The line a helper prints once it has subscribed.</summary>
    public const string ReadyLine = "ready";

    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_reapWait = TimeSpan.FromSeconds(5);

    private readonly SpawnedProcess _process;
    private readonly PipeEnd _output;
    private readonly Thread _pump;
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HelperProcess(string name, SpawnedProcess process, PipeEnd output)
    {
        Name = name;
        _process = process;
        _output = output;
        _pump = new Thread(Pump) { IsBackground = true, Name = $"myipcfd {name} output" };
        _pump.Start();
    }

    /// <summary>What the output calls it: "reader", "receiver".</summary>
    public string Name { get; }

    public int Pid => _process.Pid;

    /// <summary>Completes when its stdout has closed and every line of it was printed (it has exited, as a rule).</summary>
    public Task OutputEnded => _ended.Task;

    /// <summary>Starts <c>myipcfd <paramref name="arguments"/></c>.</summary>
    public static HelperProcess Start(string name, IEnumerable<string> arguments)
    {
        // Without the diagnostics IPC (/tmp/dotnet-diagnostic-*, clr-debug-pipe-*): a reader that dropped root
        // could not remove those root-made files from /tmp when it exits.
        IReadOnlyList<string> self = SelfCommand.Self();
        string command = "DOTNET_EnableDiagnostics=0 " + SpawnedProcess.ExecCommand(self[0], self.Skip(1).Concat(arguments));
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        try
        {
            SpawnedProcess process;
            using (writer)
            using (SafeFileHandle devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read))
            {
                process = SpawnedProcess.Start(command, devNull, writer.Handle, standardError: null, newProcessGroup: false);
            }
            return new HelperProcess(name, process, reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Waits until it prints <see cref="ReadyLine"/>.</summary>
    /// <exception cref="DemoFailedException">It exited first, or did not get ready within <paramref name="timeout"/>.</exception>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task first = await Task.WhenAny(_ready.Task, Task.Delay(timeout, delay.Token)).ConfigureAwait(false);
        await delay.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first != _ready.Task)
        {
            throw new DemoFailedException(string.Create(CultureInfo.InvariantCulture,
                $"the {Name} (pid {Pid}) did not get ready within {timeout.TotalSeconds:0} s"));
        }
        if (!await _ready.Task.ConfigureAwait(false))
        {
            string how = _process.WaitForExit(s_reapWait, out ProcessExit exit) ? exit.ToString() : "closed its output";
            throw new DemoFailedException(string.Create(CultureInfo.InvariantCulture,
                $"the {Name} (pid {Pid}) {how} before it got ready (its error, if any, is above)"));
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for it to exit (and its output to be printed); null when it did
    /// not, and then it is still running.
    /// </summary>
    public async Task<ProcessExit?> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task first = await Task.WhenAny(_ended.Task, Task.Delay(timeout, delay.Token)).ConfigureAwait(false);
        await delay.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == _ended.Task && _process.WaitForExit(s_reapWait, out ProcessExit exit))
        {
            return exit;
        }
        return _process.TryReap(out ProcessExit late) ? late : null;
    }

    /// <summary>Kills it (SIGKILL, by pid) and reaps it.</summary>
    public void Kill()
    {
        _process.Signal(9);
        _process.WaitForExit(s_reapWait, out _);
    }

    /// <summary>Ends it if it still runs (SIGTERM, then SIGKILL, by pid), reaps it, and closes the pipe.</summary>
    public void Dispose()
    {
        try
        {
            _process.Stop(s_stopGrace, s_reapWait);
        }
        catch (IpcException ex)
        {
            Console.Error.WriteLine($"myipcfd: cannot end the {Name} (pid {Pid}): {ex.Message}");
        }
        _pump.Join(s_reapWait);
        _output.Dispose();
        _process.Dispose();
    }

    private void Pump()
    {
        byte[] buffer = new byte[4096];
        var line = new List<byte>();
        try
        {
            while (true)
            {
                int n = _output.Read(buffer);
                if (n == 0)
                {
                    break;
                }
                foreach (byte b in buffer.AsSpan(0, n))
                {
                    if (b == (byte)'\n')
                    {
                        Emit(Encoding.UTF8.GetString([.. line]));
                        line.Clear();
                    }
                    else
                    {
                        line.Add(b);
                    }
                }
            }
            if (line.Count > 0)
            {
                Emit(Encoding.UTF8.GetString([.. line]));
            }
        }
        catch (IpcException ex)
        {
            Console.Error.WriteLine($"myipcfd: reading the {Name}'s output: {ex.Message}");
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _ready.TrySetResult(false);
            _ended.TrySetResult();
        }
    }

    private void Emit(string text)
    {
        if (text == ReadyLine)
        {
            _ready.TrySetResult(true);
        }
        else
        {
            Console.Out.WriteLine(text);
        }
    }
}
