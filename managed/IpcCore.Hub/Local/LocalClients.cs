using System.Globalization;
using IpcCore.Native;
using Microsoft.Extensions.Logging;

namespace IpcCore.Hub.Local;

/// <summary>
/// The clients that live in the hub: the inbox FIFO <c>&lt;dir&gt;/publish.fifo</c> and the child processes of
/// <c>--child</c>/<c>--child-sub</c>. It creates them when the hub starts, watches each child's pidfd in the
/// event loop (reaping and logging its exit), and at shutdown ends the children and removes the inbox.
/// </summary>
internal sealed partial class LocalClients : IPollHandler, IDisposable
{
    private static readonly TimeSpan s_subscriberGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_termGrace = TimeSpan.FromSeconds(2);

    private readonly HubOptions _options;
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly List<RunningChild> _children = [];
    private HubEngine? _engine;
    private PipeEnd? _inbox;
    private bool _inboxCreated;

    public LocalClients(HubOptions options, string directory, ILogger logger)
    {
        _options = options;
        _directory = directory;
        _logger = logger;
    }

    /// <summary>The inbox FIFO's path (whether or not it is enabled).</summary>
    public string InboxPath => HubObjectNames.InboxPath(_directory);

    /// <summary>Children still running.</summary>
    public int RunningChildren => _children.Count(c => !c.Exited);

    /// <summary>Creates the inbox and starts the children (the hub holds its lock, so a leftover inbox is stale).</summary>
    public void Start(HubEngine engine)
    {
        _engine = engine;
        if (_options.Inbox)
        {
            StartInbox(engine);
        }
        for (int i = 0; i < _options.Children.Count; i++)
        {
            StartChild(engine, _options.Children[i]);
        }
    }

    private void StartInbox(HubEngine engine)
    {
        string path = InboxPath;
        if (Fifo.TryUnlink(path))
        {
            LogStaleInbox(_logger, path);
        }
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (_options.GroupAccess)
        {
            mode |= UnixFileMode.GroupWrite; // the group may publish, not read others' lines
        }
        Fifo.Create(path, mode);
        _inboxCreated = true;
        // Read-write, so the hub never sees end of stream as writers come and go.
        _inbox = Fifo.OpenReadWrite(path);
        int maxLine = Pipe.AtomicWriteLimit;
        engine.AttachLocal("inbox", LineSourcePath.ForInbox(_inbox, maxLine, _logger, "inbox " + path), []);
        LogInbox(_logger, path, maxLine);
    }

    private void StartChild(HubEngine engine, HubChild spec)
    {
        bool publisher = spec.Role == HubChildRole.Publisher;
        (PipeEnd Reader, PipeEnd Writer) pipe = Pipe.Create(nonBlocking: false);
        PipeEnd hubEnd = publisher ? pipe.Reader : pipe.Writer;
        PipeEnd childEnd = publisher ? pipe.Writer : pipe.Reader;
        SpawnedProcess process;
        try
        {
            hubEnd.NonBlocking = true; // the child's end stays blocking: its own file description
            // A publisher reads nothing: /dev/null, so it never competes for the hub's terminal.
            using Microsoft.Win32.SafeHandles.SafeFileHandle? devNull = publisher ? File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read) : null;
            process = SpawnedProcess.Start(spec.Command,
                standardInput: publisher ? devNull : childEnd.Handle,
                standardOutput: publisher ? childEnd.Handle : null,
                standardError: null,
                newProcessGroup: true);
        }
        catch (IpcException e)
        {
            hubEnd.Dispose();
            childEnd.Dispose();
            LogChildFailed(_logger, spec.ToString(), e.Message);
            return;
        }
        childEnd.Dispose(); // the child has it; ours would hide its end of stream
        var child = new RunningChild(spec, process);
        _children.Add(child);
        string name = string.Create(CultureInfo.InvariantCulture, $"child {process.Pid} {spec.Channel}");
        string source = string.Create(CultureInfo.InvariantCulture, $"child {process.Pid} ({spec.Command})");
        try
        {
            child.Connection = publisher
                ? engine.AttachLocal(name, LineSourcePath.ForChannel(hubEnd, spec.Channel, _options.MaxMessageSize, _logger, source), [])
                : engine.AttachLocal(name, new LineSinkPath(hubEnd, source), [spec.Channel]);
            child.WatchToken = engine.Watch(process.ExitHandle, this, _children.Count - 1);
        }
        catch (Exception e) when (e is IpcException or InvalidOperationException)
        {
            LogChildFailed(_logger, spec.ToString(), e.Message);
            process.SignalGroup(9);
            return;
        }
        string described = spec.ToString();
        LogChildStarted(_logger, process.Pid, described);
    }

    /// <summary>A child's pidfd is readable: it exited. Reap it and say how it ended.</summary>
    public void OnPollEvents(PollEvents events, int tag)
    {
        RunningChild child = _children[tag];
        if (child.Exited)
        {
            return;
        }
        ProcessExit exit;
        try
        {
            if (!child.Process.TryReap(out exit))
            {
                return;
            }
        }
        catch (IpcException e)
        {
            // ECHILD: someone else reaped it (the hub was started with SIGCHLD ignored). It is gone all the same.
            child.Exited = true;
            _engine?.Unwatch(child.WatchToken, child.Process.ExitHandle);
            LogChildLost(_logger, child.Process.Pid, e.Message);
            return;
        }
        child.Exited = true;
        _engine?.Unwatch(child.WatchToken, child.Process.ExitHandle);
        LogExit(child, exit, "");
    }

    /// <summary>
    /// After the loop (every child's pipe is closed by now, so a <c>--child-sub</c> has seen end of input):
    /// subscribers get a moment to finish on their own, then every child's process group gets SIGTERM, and
    /// SIGKILL if it is still there after a grace period. Every child is reaped.
    /// </summary>
    public void Stop()
    {
        WaitAll(c => c.Spec.Role == HubChildRole.Subscriber, s_subscriberGrace);
        foreach (RunningChild c in _children)
        {
            if (!c.Exited)
            {
                c.Process.SignalGroup(15);
            }
        }
        WaitAll(_ => true, s_termGrace);
        foreach (RunningChild c in _children)
        {
            if (!c.Exited)
            {
                c.Process.SignalGroup(9);
                c.Exited = true;
                if (TryWait(c, Timeout.InfiniteTimeSpan, out ProcessExit exit))
                {
                    LogExit(c, exit, " (it ignored SIGTERM)");
                }
            }
            else
            {
                // Its group may hold more (a pipeline's other commands): they go too.
                c.Process.SignalGroup(15);
            }
        }
        RemoveInbox();
    }

    private void WaitAll(Func<RunningChild, bool> which, TimeSpan limit)
    {
        long deadline = MonotonicClock.NowNs + (long)(limit.TotalMilliseconds * 1_000_000);
        foreach (RunningChild c in _children)
        {
            if (c.Exited || !which(c))
            {
                continue;
            }
            long left = Math.Max(0, deadline - MonotonicClock.NowNs);
            if (TryWait(c, TimeSpan.FromTicks(left / 100), out ProcessExit exit))
            {
                c.Exited = true;
                LogExit(c, exit, "");
            }
        }
    }

    /// <summary>Waits for a child to exit and reaps it; ECHILD (reaped elsewhere) counts as exited, without a status.</summary>
    private bool TryWait(RunningChild child, TimeSpan timeout, out ProcessExit exit)
    {
        try
        {
            if (timeout == Timeout.InfiniteTimeSpan)
            {
                exit = child.Process.WaitForExit();
                return true;
            }
            return child.Process.WaitForExit(timeout, out exit);
        }
        catch (IpcException e)
        {
            exit = default;
            child.Exited = true;
            LogChildLost(_logger, child.Process.Pid, e.Message);
            return false;
        }
    }

    private void RemoveInbox()
    {
        if (_inboxCreated)
        {
            _inboxCreated = false;
            Fifo.TryUnlink(InboxPath);
        }
    }

    public void Dispose()
    {
        RemoveInbox();
        _inbox?.Dispose();
        foreach (RunningChild c in _children)
        {
            if (!c.Exited)
            {
                c.Process.SignalGroup(9);
                TryWait(c, Timeout.InfiniteTimeSpan, out _);
                c.Exited = true;
            }
            c.Process.Dispose();
        }
        _children.Clear();
    }

    private void LogExit(RunningChild child, ProcessExit exit, string note)
    {
        string described = child.Spec.ToString(), how = exit.ToString() + note;
        if (exit.ExitCode == 0 && exit.Signal == 0)
        {
            LogChildEnded(_logger, child.Process.Pid, described, how);
        }
        else
        {
            LogChildExited(_logger, child.Process.Pid, described, how);
        }
    }

    private sealed class RunningChild(HubChild spec, SpawnedProcess process)
    {
        public HubChild Spec { get; } = spec;

        public SpawnedProcess Process { get; } = process;

        public ClientConnection? Connection { get; set; }

        public long WatchToken { get; set; }

        public bool Exited { get; set; }
    }

    [LoggerMessage(EventId = 80, Level = LogLevel.Information, Message = "inbox FIFO {Path}: write lines 'CHANNEL PAYLOAD' of at most {MaxLine} bytes")]
    private static partial void LogInbox(ILogger logger, string path, int maxLine);

    [LoggerMessage(EventId = 81, Level = LogLevel.Information, Message = "removed the stale inbox FIFO {Path}")]
    private static partial void LogStaleInbox(ILogger logger, string path);

    [LoggerMessage(EventId = 82, Level = LogLevel.Information, Message = "child {Pid} started: {Child}")]
    private static partial void LogChildStarted(ILogger logger, int pid, string child);

    [LoggerMessage(EventId = 83, Level = LogLevel.Warning, Message = "child {Pid} ({Child}) {How}")]
    private static partial void LogChildExited(ILogger logger, int pid, string child, string how);

    [LoggerMessage(EventId = 85, Level = LogLevel.Information, Message = "child {Pid} ({Child}) {How}")]
    private static partial void LogChildEnded(ILogger logger, int pid, string child, string how);

    [LoggerMessage(EventId = 86, Level = LogLevel.Warning, Message = "child {Pid} ended, but its status is lost: {Reason}")]
    private static partial void LogChildLost(ILogger logger, int pid, string reason);

    [LoggerMessage(EventId = 84, Level = LogLevel.Error, Message = "could not start {Child}: {Reason}")]
    private static partial void LogChildFailed(ILogger logger, string child, string reason);
}
