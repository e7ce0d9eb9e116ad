using System.Globalization;

namespace IpcCore;

/// <summary>
/// How a reaped child process ended (waitpid(2)): it exited with <see cref="ExitCode"/>, or a signal
/// killed it (<see cref="Signal"/> is then its number and <see cref="ExitCode"/> is -1).
/// </summary>
/// <param name="ExitCode">The exit status (0-255), or -1 when a signal killed the process.</param>
/// <param name="Signal">The signal that killed the process (e.g. 15 for SIGTERM), or 0 when it exited.</param>
public readonly record struct ProcessExit(int ExitCode, int Signal)
{
    /// <summary>Whether the process exited by itself (exit(3) or returning from main) rather than by a signal.</summary>
    public bool Exited => Signal == 0;

    /// <summary>Whether a signal killed the process.</summary>
    public bool KilledBySignal => Signal != 0;

    /// <summary>"exited with code 3", "killed by SIGTERM (15)", or "killed by signal 42" for a signal without a name here.</summary>
    public override string ToString()
    {
        if (Signal == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"exited with code {ExitCode}");
        }
        string? name = SignalName(Signal);
        return name is null
            ? string.Create(CultureInfo.InvariantCulture, $"killed by signal {Signal}")
            : string.Create(CultureInfo.InvariantCulture, $"killed by {name} ({Signal})");
    }

    /// <summary>The name of a common Linux signal ("SIGTERM" for 15), or null for the others.</summary>
    public static string? SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        17 => "SIGCHLD",
        18 => "SIGCONT",
        19 => "SIGSTOP",
        20 => "SIGTSTP",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => null,
    };
}
