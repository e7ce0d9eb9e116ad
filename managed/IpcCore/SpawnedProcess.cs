using System.Globalization;
using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// A child process running <c>/bin/sh -c COMMAND</c>, started with posix_spawn(3) (a .NET process must
/// not fork) with this process's environment, an empty signal mask and every signal at its default
/// disposition. Its exit is observable without a thread: <see cref="ExitHandle"/> (a pidfd) turns
/// readable in poll/epoll once it has exited, and <see cref="TryReap"/> then collects the exit status.
/// </summary>
/// <remarks>
/// The child stays this process's to reap: until it is reaped its pid cannot be reused, which is what
/// makes <see cref="Signal"/> safe. If SIGCHLD was ignored when this process started, the .NET runtime
/// reaps every child itself and <see cref="TryReap"/> fails with ECHILD. <see cref="Dispose"/> closes
/// the pidfd only: it neither ends nor reaps the child.
/// </remarks>
public sealed class SpawnedProcess : IDisposable
{
    private const int SIGKILL = 9;
    private const int SIGTERM = 15;

    private readonly Lock _reapLock = new();
    private readonly SafeFdHandle _exitHandle;
    private ProcessExit? _exit; // set once reaped, under _reapLock

    private SpawnedProcess(int pid, string command, bool processGroupLeader, SafeFdHandle exitHandle)
    {
        Pid = pid;
        Command = command;
        IsProcessGroupLeader = processGroupLeader;
        _exitHandle = exitHandle;
    }

    /// <summary>The child's process id (also its process group id when <see cref="IsProcessGroupLeader"/>).</summary>
    public int Pid { get; }

    /// <summary>The shell command it runs (the argument of <c>/bin/sh -c</c>).</summary>
    public string Command { get; }

    /// <summary>Whether it was started in a new process group of its own (pgid == <see cref="Pid"/>), so <see cref="SignalGroup"/> reaches everything it started.</summary>
    public bool IsProcessGroupLeader { get; }

    /// <summary>
    /// A pidfd of the child (pidfd_open(2), close-on-exec): readable (<see cref="PollEvents.POLLIN"/>) once it has
    /// exited, for <see cref="FileDescriptor.Poll(SafeHandle, PollEvents, int)"/> or an <see cref="EpollSet"/>.
    /// Reading it is not needed: reap with <see cref="TryReap"/>.
    /// </summary>
    public SafeFdHandle ExitHandle => _exitHandle;

    /// <summary>Whether it has exited; an exited child is reaped by this check (its exit stays available from <see cref="TryReap"/>).</summary>
    public bool HasExited => TryReap(out _);

    /// <summary>
    /// Starts <c>/bin/sh -c <paramref name="command"/></c>. Each non-null handle becomes the child's stdin,
    /// stdout or stderr (close-on-exec or not; the caller keeps and still owns it, so close your copy of
    /// a pipe end the child uses); null inherits this process's descriptor.
    /// </summary>
    /// <param name="command">A shell command line; it must not contain NUL.</param>
    /// <param name="standardInput">The child's descriptor 0, or null for this process's.</param>
    /// <param name="standardOutput">The child's descriptor 1, or null for this process's.</param>
    /// <param name="standardError">The child's descriptor 2, or null for this process's.</param>
    /// <param name="newProcessGroup">Start it in a new process group of its own, so <see cref="SignalGroup"/> can end it with all it started.</param>
    /// <exception cref="IpcException">posix_spawn failed (e.g. EBADF, EAGAIN, ENOMEM), or pidfd_open did (the child is then killed and reaped).</exception>
    /// <exception cref="ObjectDisposedException">A handle is closed.</exception>
    public static unsafe SpawnedProcess Start(string command, SafeHandle? standardInput, SafeHandle? standardOutput, SafeHandle? standardError, bool newProcessGroup)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A shell command cannot contain NUL.", nameof(command));
        }
        int flags = newProcessGroup ? (int)SpawnFlags.SPAWN_NEW_PROCESS_GROUP : (int)SpawnFlags.SPAWN_NONE;

        int pid = 0;
        bool inAdded = false, outAdded = false, errAdded = false;
        try
        {
            // Referenced for the call, so none of the descriptors can be closed and its number reused meanwhile.
            int inFd = AddRef(standardInput, ref inAdded, nameof(standardInput));
            int outFd = AddRef(standardOutput, ref outAdded, nameof(standardOutput));
            int errFd = AddRef(standardError, ref errAdded, nameof(standardError));
            IpcError.Check(IpcNative.SpawnShell(command, inFd, outFd, errFd, flags, &pid), "posix_spawn", "/bin/sh -c " + command);
        }
        finally
        {
            if (inAdded)
            {
                standardInput!.DangerousRelease();
            }
            if (outAdded)
            {
                standardOutput!.DangerousRelease();
            }
            if (errAdded)
            {
                standardError!.DangerousRelease();
            }
        }

        int pidfd = IpcNative.PidfdOpen(pid);
        if (pidfd < 0)
        {
            // Nobody could watch it: do not leave it running (or unreaped). Best effort: the pidfd_open
            // error is the one to report.
            if (newProcessGroup)
            {
                _ = IpcNative.KillProcessGroup(pid, SIGKILL);
            }
            _ = IpcNative.Kill(pid, SIGKILL);
            _ = IpcNative.WaitPid(pid, 0, null, null);
            IpcError.Throw(pidfd, "pidfd_open", Describe(pid, command));
        }
        return new SpawnedProcess(pid, command, newProcessGroup, new SafeFdHandle(pidfd));
    }

    /// <summary>
    /// The command line for <see cref="Start"/> that runs <paramref name="program"/> with <paramref name="arguments"/>
    /// in place of the shell (<c>exec 'program' 'arg' ...</c>, every word quoted), so the child's pid is the program's.
    /// </summary>
    public static string ExecCommand(string program, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(arguments);
        var command = new System.Text.StringBuilder("exec ").Append(QuoteForShell(program));
        foreach (string argument in arguments)
        {
            command.Append(' ').Append(QuoteForShell(argument));
        }
        return command.ToString();
    }

    /// <summary>One word for /bin/sh, whatever it holds: single-quoted, with each ' written as '\''.</summary>
    public static string QuoteForShell(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// Ends the child by its pid: SIGTERM, then SIGKILL when it has not exited within <paramref name="grace"/>; reaps
    /// it. Returns how it ended, or null when it was still there <paramref name="killWait"/> after SIGKILL.
    /// </summary>
    public ProcessExit? Stop(TimeSpan grace, TimeSpan killWait)
    {
        if (TryReap(out ProcessExit exit))
        {
            return exit;
        }
        Signal(SIGTERM);
        if (WaitForExit(grace, out exit))
        {
            return exit;
        }
        Signal(SIGKILL);
        return WaitForExit(killWait, out exit) ? exit : null;
    }

    /// <summary>
    /// Reaps the child if it has exited (waitpid(2) with WNOHANG) and returns true with how it ended; false
    /// while it runs. Once reaped, every further call returns the same <paramref name="exit"/>.
    /// </summary>
    /// <exception cref="IpcException">ECHILD when someone else reaped it.</exception>
    public bool TryReap(out ProcessExit exit)
    {
        lock (_reapLock)
        {
            return TryReapLocked(out exit);
        }
    }

    /// <summary>Waits until the child exits, reaps it and returns how it ended.</summary>
    /// <exception cref="ObjectDisposedException">Disposed before the child was reaped.</exception>
    public ProcessExit WaitForExit()
    {
        WaitForExit(Timeout.InfiniteTimeSpan, out ProcessExit exit);
        return exit;
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: forever; zero: just
    /// look) on <see cref="ExitHandle"/> for the child to exit, then reaps it. Returns false, leaving it
    /// running, when the time is up.
    /// </summary>
    /// <exception cref="ObjectDisposedException">Disposed before the child was reaped.</exception>
    public bool WaitForExit(TimeSpan timeout, out ProcessExit exit)
    {
        bool infinite = timeout == Timeout.InfiniteTimeSpan;
        if (!infinite)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }
        if (TryReap(out exit))
        {
            return true;
        }
        ObjectDisposedException.ThrowIf(_exitHandle.IsClosed, this);

        long timeoutNs = infinite ? 0 : (timeout.Ticks > long.MaxValue / 100 ? long.MaxValue : timeout.Ticks * 100);
        long deadlineNs = infinite ? long.MaxValue : SaturatingAdd(MonotonicClock.NowNs, timeoutNs);
        while (true)
        {
            int waitMs = -1;
            if (!infinite)
            {
                long remainingNs = Math.Max(0, deadlineNs - MonotonicClock.NowNs);
                // Rounded up, so the poll never ends before the deadline.
                waitMs = (int)Math.Min(int.MaxValue, (remainingNs + 999_999) / 1_000_000);
            }
            FileDescriptor.Poll(_exitHandle, PollEvents.POLLIN, waitMs);
            if (TryReap(out exit))
            {
                return true;
            }
            if (!infinite && MonotonicClock.NowNs >= deadlineNs)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (e.g. 15 for SIGTERM, 9 for SIGKILL) to the child alone (kill(2)).
    /// Returns false when it has already exited (it is reaped then): a signal never reaches a process
    /// that reused its pid.
    /// </summary>
    /// <exception cref="IpcException">EINVAL for an invalid signal; EPERM.</exception>
    public bool Signal(int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(signal);
        lock (_reapLock)
        {
            // Not yet reaped here means the pid is still the child's (a zombie at worst, which the reap ends).
            if (TryReapLocked(out _))
            {
                return false;
            }
            int result = IpcNative.Kill(Pid, signal);
            if (result == -(int)Errno.ESRCH)
            {
                return false;
            }
            IpcError.Check(result, "kill", Describe(Pid, Command));
            return true;
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to every process of the child's process group (kill(-pgid)): the
    /// child and whatever it started that did not leave the group, even after the child itself has
    /// exited. Returns false when no process is left in the group (ESRCH).
    /// </summary>
    /// <exception cref="InvalidOperationException">The child was not started with <c>newProcessGroup</c>: its group is the caller's own.</exception>
    /// <exception cref="IpcException">EINVAL for an invalid signal; EPERM.</exception>
    public bool SignalGroup(int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(signal);
        if (!IsProcessGroupLeader)
        {
            throw new InvalidOperationException($"{this} was not started in a new process group; its group is this process's own.");
        }
        int result = IpcNative.KillProcessGroup(Pid, signal);
        if (result == -(int)Errno.ESRCH)
        {
            return false;
        }
        IpcError.Check(result, "kill", string.Create(CultureInfo.InvariantCulture, $"process group {Pid}: /bin/sh -c {Command}"));
        return true;
    }

    /// <summary>Closes <see cref="ExitHandle"/>. The child is neither signalled nor reaped; <see cref="TryReap"/> and <see cref="Signal"/> keep working.</summary>
    public void Dispose() => _exitHandle.Dispose();

    public override string ToString() => Describe(Pid, Command);

    private unsafe bool TryReapLocked(out ProcessExit exit)
    {
        if (_exit is { } known)
        {
            exit = known;
            return true;
        }
        int code = 0, signal = 0;
        int result = IpcNative.WaitPid(Pid, 1, &code, &signal);
        if (result == 0)
        {
            exit = default;
            return false;
        }
        IpcError.Check(result, "waitpid", Describe(Pid, Command));
        exit = new ProcessExit(code, signal);
        _exit = exit;
        return true;
    }

    private static string Describe(int pid, string command)
        => string.Create(CultureInfo.InvariantCulture, $"pid {pid}: /bin/sh -c {command}");

    private static int AddRef(SafeHandle? handle, ref bool added, string paramName)
    {
        if (handle is null)
        {
            return -1;
        }
        if (handle.IsInvalid)
        {
            throw new ArgumentException("The handle is invalid; pass null to inherit this process's descriptor.", paramName);
        }
        handle.DangerousAddRef(ref added);
        return (int)handle.DangerousGetHandle();
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
