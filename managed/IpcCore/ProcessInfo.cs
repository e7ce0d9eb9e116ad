using System.Globalization;
using IpcCore.Native;

namespace IpcCore;

/// <summary>Facts about processes that a hub checks: who am I, and is that client still there.</summary>
public static class ProcessInfo
{
    /// <summary>This process's id (getpid(2)).</summary>
    public static int CurrentPid => IpcNative.GetPid();

    /// <summary>This process's effective user id (geteuid(2)), the uid that <see cref="UnixSocket.PeerCredentials"/> reports to a peer.</summary>
    public static uint EffectiveUid => checked((uint)IpcNative.GetEUid());

    /// <summary>
    /// Whether process <paramref name="pid"/> exists (kill(pid, 0)): true when it does, even if it belongs
    /// to another user (EPERM); false when there is no such process (ESRCH). A zombie (exited, not yet
    /// reaped) still counts as existing, and a pid can be reused by a new process after the old one is reaped.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        // 0 and negative pids mean process groups and "every process" to kill(2): never a single process.
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        int result = IpcNative.Kill(pid, 0);
        if (result == 0 || result == -(int)Errno.EPERM)
        {
            return true;
        }
        if (result == -(int)Errno.ESRCH)
        {
            return false;
        }
        IpcError.Throw(result, "kill", string.Create(CultureInfo.InvariantCulture, $"pid {pid}"));
        return false;
    }

    /// <summary>
    /// Gives up root for good: drops the supplementary groups (setgroups(0)), then sets the real, effective and
    /// saved group ids to <paramref name="gid"/> (setresgid) and the user ids to <paramref name="uid"/> (setresuid),
    /// for every thread of the process. Afterwards the process has none of root's powers (e.g. opening a file
    /// whatever its mode) and cannot get them back. Descriptors that are already open stay usable.
    /// </summary>
    /// <remarks>
    /// Files the process has not opened yet are then opened as <paramref name="uid"/>: a .NET program should load
    /// every assembly it still needs first, in case its own directory is not readable by that user.
    /// </remarks>
    /// <exception cref="IpcException">EPERM when the process is not privileged (not root, or without CAP_SETUID/CAP_SETGID); EINVAL for an id the system does not accept.</exception>
    public static void DropPrivileges(uint uid, uint gid)
        => IpcError.Check(IpcNative.DropPrivileges(uid, gid), "setgroups/setresgid/setresuid",
            string.Create(CultureInfo.InvariantCulture, $"uid {uid}, gid {gid}"));

    /// <summary>
    /// Sends signal <paramref name="signal"/> (e.g. 15 for SIGTERM, 9 for SIGKILL) to process
    /// <paramref name="pid"/> (kill(2)). Only a single process: pid must be positive.
    /// </summary>
    /// <exception cref="IpcException">ESRCH when there is no such process; EPERM; EINVAL for an invalid signal.</exception>
    public static void Signal(int pid, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        ArgumentOutOfRangeException.ThrowIfNegative(signal);
        IpcError.Check(IpcNative.Kill(pid, signal), "kill", string.Create(CultureInfo.InvariantCulture, $"pid {pid}"));
    }
}
