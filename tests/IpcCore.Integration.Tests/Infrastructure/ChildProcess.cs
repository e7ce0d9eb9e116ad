using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>
/// One of the tools under test, running as a child process with stdin, stdout and stderr redirected.
/// stdout and stderr are read continuously on their own threads (a child never blocks on a full pipe)
/// and kept: stdout as bytes and as lines, stderr as lines. Waits are bounded and fail with the
/// child's stderr in the message. The child is only ever signalled by its pid.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>Every child started by this test run, for the end-of-run stray-process check.</summary>
    public static readonly ConcurrentDictionary<int, ChildProcess> Started = new();

    /// <summary>The pid of every child ever started by this test run.</summary>
    public static readonly ConcurrentBag<int> AllPids = [];

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly MemoryStream _stdout = new();
    private readonly List<string> _stdoutLines = [];
    private readonly List<string> _stderrLines = [];
    private readonly List<byte> _stdoutPartial = [];
    private readonly List<byte> _stderrPartial = [];
    private readonly Thread _stdoutReader;
    private readonly Thread _stderrReader;
    private bool _stdoutClosed;
    private bool _stderrClosed;
    private bool _stdinClosed;

    private ChildProcess(string tool, IReadOnlyList<string> args, Process process)
    {
        Tool = tool;
        Args = args;
        _process = process;
        Pid = process.Id;
        _stdoutReader = new Thread(() => Pump(process.StandardOutput.BaseStream, isStdout: true))
        {
            IsBackground = true,
            Name = $"{tool} {Pid} stdout",
        };
        _stderrReader = new Thread(() => Pump(process.StandardError.BaseStream, isStdout: false))
        {
            IsBackground = true,
            Name = $"{tool} {Pid} stderr",
        };
        _stdoutReader.Start();
        _stderrReader.Start();
    }

    public string Tool { get; }

    public IReadOnlyList<string> Args { get; }

    public int Pid { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="tool"/> (myipchub, myipcpub, myipcsub) from the bin directory.</summary>
    public static ChildProcess Start(string tool, IEnumerable<string> args) => StartProgram(Tools.PathOf(tool), tool, args);

    /// <summary>Starts <c>/bin/sh -c <paramref name="script"/></c> (shown as "sh" in failure messages).</summary>
    public static ChildProcess StartShell(string script) => StartProgram("/bin/sh", "sh", ["-c", script]);

    /// <summary>Starts the program at <paramref name="path"/>, named <paramref name="tool"/> in failure messages.</summary>
    public static ChildProcess StartProgram(string path, string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var list = args.ToList();
        foreach (string a in list)
        {
            psi.ArgumentList.Add(a);
        }
        // The tools fall back to $IPCHUB_DIR when --dir is missing; never let a developer's hub leak in.
        psi.Environment.Remove("IPCHUB_DIR");
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {tool}");
        var child = new ChildProcess(tool, list, process);
        Started[child.Pid] = child;
        AllPids.Add(child.Pid);
        return child;
    }

    // --- output ------------------------------------------------------------------------------

    /// <summary>All stdout bytes so far.</summary>
    public byte[] StdoutBytes()
    {
        lock (_gate)
        {
            return _stdout.ToArray();
        }
    }

    /// <summary>The complete stdout lines so far (without '\n').</summary>
    public IReadOnlyList<string> StdoutLines()
    {
        lock (_gate)
        {
            return [.. _stdoutLines];
        }
    }

    /// <summary>The stderr lines so far, with a trailing incomplete line if there is one.</summary>
    public IReadOnlyList<string> StderrLines()
    {
        lock (_gate)
        {
            var lines = new List<string>(_stderrLines);
            if (_stderrPartial.Count > 0)
            {
                lines.Add(Encoding.UTF8.GetString([.. _stderrPartial]));
            }
            return lines;
        }
    }

    public string StderrText() => string.Join('\n', StderrLines());

    public string StdoutText() => Encoding.UTF8.GetString(StdoutBytes());

    /// <summary>Waits for a stdout line matching <paramref name="match"/>; returns it.</summary>
    public string WaitForStdoutLine(Func<string, bool> match, TimeSpan timeout, string what)
        => WaitForLines(_stdoutLines, () => _stdoutClosed, match, 1, timeout, what)[0];

    /// <summary>Waits for a stderr line matching <paramref name="match"/>; returns it.</summary>
    public string WaitForStderrLine(Func<string, bool> match, TimeSpan timeout, string what)
        => WaitForLines(_stderrLines, () => _stderrClosed, match, 1, timeout, what)[0];

    /// <summary>Waits until <paramref name="count"/> stdout lines match <paramref name="match"/>; returns them.</summary>
    public IReadOnlyList<string> WaitForStdoutLines(Func<string, bool> match, int count, TimeSpan timeout, string what)
        => WaitForLines(_stdoutLines, () => _stdoutClosed, match, count, timeout, what);

    /// <summary>Waits until <paramref name="count"/> stderr lines match <paramref name="match"/>; returns them.</summary>
    public IReadOnlyList<string> WaitForStderrLines(Func<string, bool> match, int count, TimeSpan timeout, string what)
        => WaitForLines(_stderrLines, () => _stderrClosed, match, count, timeout, what);

    /// <summary>Waits until stdout holds at least <paramref name="count"/> bytes; returns them all.</summary>
    public byte[] WaitForStdoutBytes(int count, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        lock (_gate)
        {
            while (_stdout.Length < count)
            {
                TimeSpan left = timeout - deadline.Elapsed;
                if (_stdoutClosed || left <= TimeSpan.Zero)
                {
                    Assert.Fail($"{what}: expected {count} bytes on stdout, got {_stdout.Length} " +
                        $"({(_stdoutClosed ? "stdout closed" : $"timeout {timeout.TotalSeconds:0} s")})\n{DescribeLocked()}");
                }
                Monitor.Wait(_gate, left);
            }
            return _stdout.ToArray();
        }
    }

    private List<string> WaitForLines(List<string> lines, Func<bool> closed, Func<string, bool> match, int count,
        TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        lock (_gate)
        {
            while (true)
            {
                var found = lines.Where(match).ToList();
                if (found.Count >= count)
                {
                    return found;
                }
                TimeSpan left = timeout - deadline.Elapsed;
                if (closed() || left <= TimeSpan.Zero)
                {
                    Assert.Fail($"{what}: expected {count} matching line(s), found {found.Count} " +
                        $"({(closed() ? "the stream closed" : $"timeout {timeout.TotalSeconds:0} s")})\n{DescribeLocked()}");
                }
                Monitor.Wait(_gate, left);
            }
        }
    }

    private void Pump(Stream stream, bool isStdout)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = stream.Read(buffer, 0, buffer.Length);
                if (n <= 0)
                {
                    break;
                }
                lock (_gate)
                {
                    if (isStdout)
                    {
                        _stdout.Write(buffer, 0, n);
                    }
                    SplitLines(buffer.AsSpan(0, n), isStdout ? _stdoutPartial : _stderrPartial, isStdout ? _stdoutLines : _stderrLines);
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (IOException)
        {
            // The pipe went away with the process.
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            lock (_gate)
            {
                if (isStdout)
                {
                    _stdoutClosed = true;
                }
                else
                {
                    _stderrClosed = true;
                }
                Monitor.PulseAll(_gate);
            }
        }
    }

    private static void SplitLines(ReadOnlySpan<byte> data, List<byte> partial, List<string> lines)
    {
        while (!data.IsEmpty)
        {
            int nl = data.IndexOf((byte)'\n');
            if (nl < 0)
            {
                partial.AddRange(data);
                return;
            }
            if (partial.Count == 0)
            {
                lines.Add(Encoding.UTF8.GetString(data[..nl]));
            }
            else
            {
                partial.AddRange(data[..nl]);
                lines.Add(Encoding.UTF8.GetString([.. partial]));
                partial.Clear();
            }
            data = data[(nl + 1)..];
        }
    }

    // --- input -------------------------------------------------------------------------------

    public void WriteStdin(ReadOnlySpan<byte> bytes)
    {
        Stream stdin = _process.StandardInput.BaseStream;
        stdin.Write(bytes);
        stdin.Flush();
    }

    public void WriteStdinLine(string line) => WriteStdin(Encoding.UTF8.GetBytes(line + "\n"));

    public void CloseStdin()
    {
        if (_stdinClosed)
        {
            return;
        }
        _stdinClosed = true;
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child is gone (EPIPE).
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to stdin on a background task, then closes stdin.</summary>
    public Task FeedStdinAndClose(byte[] bytes) => Task.Run(() =>
    {
        try
        {
            WriteStdin(bytes);
        }
        catch (IOException)
        {
            // The child stopped reading (exited); its exit code and stderr tell the test why.
        }
        finally
        {
            CloseStdin();
        }
    });

    // --- lifetime ------------------------------------------------------------------------------

    /// <summary>Sends <paramref name="signal"/> to this child (by pid) if it is still running.</summary>
    public void Signal(int signal)
    {
        if (!_process.HasExited)
        {
            try
            {
                ProcessInfo.Signal(Pid, signal);
            }
            catch (IpcException)
            {
                // Exited meanwhile (ESRCH).
            }
        }
    }

    /// <summary>Waits for the child to exit and for its output to be read to the end; returns the exit code.</summary>
    public int WaitForExit(TimeSpan timeout, string what)
    {
        if (!TryWaitForExit(timeout))
        {
            Assert.Fail($"{what}: {Tool} (pid {Pid}) did not exit within {timeout.TotalSeconds:0} s\n{Describe()}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits for the exit and the end of the output; false on timeout.</summary>
    public bool TryWaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }
        // The pipes reach end of file once the child (the only writer) is gone.
        _stdoutReader.Join(TimeSpan.FromSeconds(10));
        _stderrReader.Join(TimeSpan.FromSeconds(10));
        return true;
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGTERM, then SIGKILL if it is still there after <paramref name="grace"/>. Returns whether SIGKILL was needed.</summary>
    public bool Stop(TimeSpan grace)
    {
        CloseStdin();
        if (_process.HasExited)
        {
            TryWaitForExit(TimeSpan.FromSeconds(5));
            return false;
        }
        Signal(SigCont); // in case a test stopped it
        Signal(SigTerm);
        if (TryWaitForExit(grace))
        {
            return false;
        }
        Signal(SigKill);
        TryWaitForExit(TimeSpan.FromSeconds(10));
        return true;
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(10));
        if (_process.HasExited)
        {
            Started.TryRemove(Pid, out _);
        }
        _process.Dispose();
    }

    /// <summary>A description for failure messages: command line, state, stderr and the end of stdout.</summary>
    public string Describe()
    {
        lock (_gate)
        {
            return DescribeLocked();
        }
    }

    private string DescribeLocked()
    {
        string state;
        try
        {
            state = _process.HasExited ? string.Create(CultureInfo.InvariantCulture, $"exited with {_process.ExitCode}") : "running";
        }
        catch (InvalidOperationException)
        {
            state = "unknown";
        }
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"--- {Tool} (pid {Pid}) {string.Join(' ', Args.Select(Quote))}: {state}\n");
        text.Append("--- stderr:\n");
        foreach (string line in _stderrLines.TakeLast(40))
        {
            text.Append(line).Append('\n');
        }
        if (_stderrPartial.Count > 0)
        {
            text.Append(Encoding.UTF8.GetString([.. _stderrPartial])).Append('\n');
        }
        text.Append(CultureInfo.InvariantCulture, $"--- stdout ({_stdout.Length} bytes, {_stdoutLines.Count} lines; last ones):\n");
        foreach (string line in _stdoutLines.TakeLast(15))
        {
            text.Append(line.Length > 200 ? line[..200] + "..." : line).Append('\n');
        }
        if (_stdoutPartial.Count > 0)
        {
            string partial = Encoding.UTF8.GetString([.. _stdoutPartial.Take(200)]);
            text.Append("(incomplete line) ").Append(partial).Append('\n');
        }
        return text.ToString();
    }

    private static string Quote(string arg)
    {
        if (arg.Length > 80)
        {
            arg = arg[..80] + "...";
        }
        return arg.Length == 0 || arg.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '*' or '>') ? "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : arg;
    }
}
