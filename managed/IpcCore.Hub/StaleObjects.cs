using System.Globalization;
using System.Text;
using IpcCore.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace IpcCore.Hub;

/// <summary>
/// Finds and removes what hubs that are no longer running left behind, in every namespace a hub uses
/// (names in <see cref="HubObjectNames"/>):
/// <list type="bullet">
/// <item>shared memory <c>/dev/shm/ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;c2h|h2c&gt;</c> and semaphores
/// <c>/dev/shm/sem.ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;c2h|h2c&gt;.&lt;data|space&gt;</c>,</item>
/// <item>message queues <c>/dev/mqueue/ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;c2h|h2c&gt;</c> (listable only where the mqueue
/// filesystem is mounted at /dev/mqueue; otherwise a warning says so),</item>
/// <item>FIFOs <c>&lt;hub dir&gt;/ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;c2h|h2c&gt;</c>,</item>
/// </list>
/// each only when the process <c>&lt;pid&gt;</c> no longer exists; and, when asked, a hub directory's own files
/// (<c>publish.fifo</c>, <c>hub.sock</c> when nobody listens on it, <c>hub.lock</c>) when no hub holds its lock.
/// Nothing of a live hub is touched, nor anything whose name does not match exactly.
/// </summary>
public static partial class StaleObjects
{
    /// <summary>The warning when the message-queue namespace cannot be listed.</summary>
    public const string MessageQueueNotMounted =
        "the POSIX message-queue namespace is not mounted at /dev/mqueue, so its queues cannot be listed (mount -t mqueue none /dev/mqueue)";

    private const string MessageQueueFileSystem = "mqueue";
    private const int LockAttempts = 5;

    /// <summary>Whether the mqueue filesystem is mounted at /dev/mqueue (so message queues can be listed).</summary>
    public static bool IsMessageQueueNamespaceMounted
        => string.Equals(FileSystemAt(HubObjectNames.MessageQueueDirectory), MessageQueueFileSystem, StringComparison.Ordinal);

    /// <summary>
    /// The stale objects now: in /dev/shm, /dev/mqueue and (unless null) the FIFOs in <paramref name="hubDirectory"/>;
    /// with <paramref name="includeDirectoryFiles"/>, also that directory's publish.fifo, hub.sock and hub.lock when
    /// no hub holds the lock (the lock is tried and released at once). A hub that holds the lock itself passes false.
    /// </summary>
    public static IReadOnlyList<StaleObject> Find(string? hubDirectory, bool includeDirectoryFiles)
        => Scan(hubDirectory, includeDirectoryFiles, new List<string>());

    /// <summary>
    /// <see cref="Find"/>, then (unless <paramref name="dryRun"/>) <see cref="Remove"/>. Each removal is logged at
    /// Information, each failure and warning at Warning. Never throws for a system call's failure: see the result.
    /// </summary>
    public static StaleSweepResult Sweep(string? hubDirectory, bool includeDirectoryFiles, bool dryRun, ILogger? logger = null)
    {
        var warnings = new List<string>();
        IReadOnlyList<StaleObject> found = Scan(hubDirectory, includeDirectoryFiles, warnings);
        if (logger is not null)
        {
            foreach (string warning in warnings)
            {
                LogWarning(logger, warning);
            }
        }
        if (dryRun)
        {
            return new StaleSweepResult(dryRun: true, found, [], warnings);
        }
        StaleSweepResult removed = Remove(found, logger);
        return new StaleSweepResult(dryRun: false, removed.Objects, removed.Failures, [.. warnings, .. removed.Warnings]);
    }

    /// <summary>
    /// Removes <paramref name="objects"/> (from <see cref="Find"/>) with the unlink of each kind: shm_unlink, sem_unlink,
    /// mq_unlink, unlink. Each is checked again first: a per-client object is skipped if its hub pid is alive again
    /// (reused), a directory's files are removed holding the directory's lock (skipped if a hub took it meanwhile; the
    /// lock file last), a socket is skipped if someone listens on it now. An object already gone is skipped. A failure
    /// (EACCES: another user's object) is reported for that object and the others are still removed.
    /// </summary>
    public static StaleSweepResult Remove(IEnumerable<StaleObject> objects, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var removed = new List<StaleObject>();
        var failures = new List<StaleObjectFailure>();
        var warnings = new List<string>();
        var directoryFiles = new List<StaleObject>();
        foreach (StaleObject o in objects)
        {
            if (o.Kind is StaleObjectKind.Inbox or StaleObjectKind.Socket or StaleObjectKind.Lock)
            {
                directoryFiles.Add(o);
                continue;
            }
            if (o.HubPid > 0 && IsAlive(o.HubPid))
            {
                continue;
            }
            TryRemove(o, removed, failures, logger);
        }
        foreach (IGrouping<string, StaleObject> directory in directoryFiles.GroupBy(o => Path.GetDirectoryName(o.Path) ?? "/", StringComparer.Ordinal))
        {
            RemoveDirectoryFiles(directory.Key, [.. directory], removed, failures, warnings, logger);
        }
        if (logger is not null)
        {
            foreach (string warning in warnings)
            {
                LogWarning(logger, warning);
            }
        }
        return new StaleSweepResult(dryRun: false, removed, failures, warnings);
    }

    // --- finding ---------------------------------------------------------------------------------

    private static List<StaleObject> Scan(string? hubDirectory, bool includeDirectoryFiles, List<string> warnings)
    {
        var found = new List<StaleObject>();
        var alive = new Dictionary<int, bool>();

        foreach (string name in List(HubObjectNames.SharedMemoryDirectory, warnings))
        {
            bool semaphore = name.StartsWith(HubObjectNames.SemaphoreFilePrefix, StringComparison.Ordinal);
            string objectName = semaphore ? name[HubObjectNames.SemaphoreFilePrefix.Length..] : name;
            int pid = ParseClientObject(objectName, semaphore);
            if (pid > 0 && !IsAlive(pid, alive))
            {
                found.Add(new StaleObject(semaphore ? StaleObjectKind.Semaphore : StaleObjectKind.SharedMemory,
                    HubObjectNames.SharedMemoryDirectory + "/" + name, pid, Gone(pid)));
            }
        }

        if (IsMessageQueueNamespaceMounted)
        {
            foreach (string name in List(HubObjectNames.MessageQueueDirectory, warnings))
            {
                int pid = ParseClientObject(name, semaphore: false);
                if (pid > 0 && !IsAlive(pid, alive))
                {
                    found.Add(new StaleObject(StaleObjectKind.MessageQueue, HubObjectNames.MessageQueueDirectory + "/" + name, pid, Gone(pid)));
                }
            }
        }
        else
        {
            warnings.Add(MessageQueueNotMounted);
        }

        if (!string.IsNullOrEmpty(hubDirectory) && Directory.Exists(hubDirectory))
        {
            string directory = Path.GetFullPath(hubDirectory);
            foreach (string name in List(directory, warnings))
            {
                int pid = ParseClientObject(name, semaphore: false);
                if (pid > 0 && !IsAlive(pid, alive))
                {
                    found.Add(new StaleObject(StaleObjectKind.Fifo, Path.Combine(directory, name), pid, Gone(pid)));
                }
            }
            if (includeDirectoryFiles)
            {
                FindDirectoryFiles(directory, found, warnings);
            }
        }
        return found;
    }

    /// <summary>The names of the non-directory entries of <paramref name="directory"/>, sorted; a warning if it cannot be listed.</summary>
    private static string[] List(string directory, List<string> warnings)
    {
        try
        {
            string[] names = [.. Directory.EnumerateFiles(directory).Select(p => Path.GetFileName(p))];
            Array.Sort(names, StringComparer.Ordinal);
            return names;
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"cannot list {directory}: {e.Message}");
            return [];
        }
    }

    /// <summary>
    /// The hub pid of <c>ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;c2h|h2c&gt;</c> (with <paramref name="semaphore"/>: followed by
    /// <c>.data</c> or <c>.space</c>), or 0 when <paramref name="name"/> is not exactly that.
    /// </summary>
    internal static int ParseClientObject(string name, bool semaphore)
    {
        if (!name.StartsWith(HubObjectNames.Prefix, StringComparison.Ordinal))
        {
            return 0;
        }
        string[] parts = name[HubObjectNames.Prefix.Length..].Split('.');
        if (parts.Length != (semaphore ? 4 : 3)
            || !IsDigits(parts[0]) || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0
            || !IsDigits(parts[1]) || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)
            || parts[2] is not (HubObjectNames.ClientToHub or HubObjectNames.HubToClient)
            || (semaphore && parts[3] is not ("data" or "space")))
        {
            return 0;
        }
        return pid;
    }

    private static bool IsDigits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);

    private static bool IsAlive(int pid, Dictionary<int, bool> cache)
    {
        if (!cache.TryGetValue(pid, out bool alive))
        {
            alive = IsAlive(pid);
            cache[pid] = alive;
        }
        return alive;
    }

    /// <summary>Whether <paramref name="pid"/> exists; when kill(2) cannot tell, it counts as alive (its objects stay).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            return ProcessInfo.IsAlive(pid);
        }
        catch (IpcException)
        {
            return true;
        }
    }

    private static string Gone(int pid) => string.Create(CultureInfo.InvariantCulture, $"hub pid {pid} is gone");

    private static void FindDirectoryFiles(string directory, List<StaleObject> found, List<string> warnings)
    {
        string inbox = HubObjectNames.InboxPath(directory);
        string socket = HubPaths.SocketPath(directory);
        string lockPath = HubPaths.LockPath(directory);
        if (!File.Exists(inbox) && !File.Exists(socket) && !File.Exists(lockPath))
        {
            return; // nothing to look at (and no reason to create a lock file just to try it)
        }
        using DirectoryLock? held = DirectoryLock.TryTake(directory, warnings);
        if (held is null)
        {
            return; // a hub runs on it: its files are not stale
        }
        (int pid, string reason) = held.StaleReason();
        if (File.Exists(inbox))
        {
            found.Add(new StaleObject(StaleObjectKind.Inbox, inbox, pid, reason));
        }
        if (File.Exists(socket) && ProbeSocket(socket) == SocketState.NobodyListens)
        {
            found.Add(new StaleObject(StaleObjectKind.Socket, socket, pid, reason + "; nobody listens on it"));
        }
        if (held.Existed)
        {
            found.Add(new StaleObject(StaleObjectKind.Lock, lockPath, pid, reason));
        }
    }

    private enum SocketState
    {
        NobodyListens,
        Listening,
        Gone,
    }

    /// <summary>Whether someone listens on <paramref name="path"/> (ECONNREFUSED: nobody; anything unclear counts as listening).</summary>
    private static SocketState ProbeSocket(string path)
    {
        UnixSocket probe;
        try
        {
            probe = UnixSocket.CreateStream(nonBlocking: true);
        }
        catch (IpcException)
        {
            return SocketState.Listening; // cannot tell (EMFILE...): leave it alone
        }
        using (probe)
        {
            try
            {
                probe.Connect(path);
                return SocketState.Listening;
            }
            catch (IpcException e) when (e.Errno == Errno.ECONNREFUSED)
            {
                return SocketState.NobodyListens;
            }
            catch (IpcException e) when (e.Errno == Errno.ENOENT)
            {
                return SocketState.Gone;
            }
            catch (IpcException)
            {
                return SocketState.Listening; // EAGAIN (a full backlog), EACCES...: leave it alone
            }
        }
    }

    // --- removing --------------------------------------------------------------------------------

    private static void TryRemove(StaleObject o, List<StaleObject> removed, List<StaleObjectFailure> failures, ILogger? logger)
    {
        try
        {
            bool existed = o.Kind switch
            {
                StaleObjectKind.SharedMemory => SharedMemory.TryUnlink(o.UnlinkName),
                StaleObjectKind.Semaphore => NamedSemaphore.TryUnlink(o.UnlinkName),
                StaleObjectKind.MessageQueue => MessageQueue.TryUnlink(o.UnlinkName),
                _ => Fifo.TryUnlink(o.Path), // unlink(2), whatever the file is
            };
            if (existed)
            {
                removed.Add(o);
                if (logger is not null)
                {
                    LogRemoved(logger, o.Path, o.KindName, o.Reason);
                }
            }
            // else: gone meanwhile (another hub's sweep, or its hub removed it).
        }
        catch (IpcException e)
        {
            failures.Add(new StaleObjectFailure(o, e.Message, e.ErrorNumber));
            if (logger is not null)
            {
                LogFailed(logger, o.Path, o.KindName, e.Message);
            }
        }
    }

    private static void RemoveDirectoryFiles(string directory, List<StaleObject> files, List<StaleObject> removed,
        List<StaleObjectFailure> failures, List<string> warnings, ILogger? logger)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        using DirectoryLock? held = DirectoryLock.TryTake(directory, warnings);
        if (held is null)
        {
            if (files.Any(f => File.Exists(f.Path)))
            {
                warnings.Add($"a hub now holds {HubPaths.LockPath(directory)}: its files were left alone");
            }
            return;
        }
        // The inbox and the socket first, the lock file last (removed while we hold it, as a stopping hub does).
        foreach (StaleObject o in files.OrderBy(f => f.Kind == StaleObjectKind.Lock ? 1 : 0))
        {
            if (o.Kind == StaleObjectKind.Socket && ProbeSocket(o.Path) != SocketState.NobodyListens)
            {
                continue;
            }
            if (o.Kind == StaleObjectKind.Lock)
            {
                if (!held.Existed)
                {
                    continue; // replaced meanwhile: the file is the one we just created, which Dispose removes
                }
                held.Deleted = true;
            }
            TryRemove(o, removed, failures, logger);
        }
    }

    /// <summary>
    /// A hub directory's lock, taken (exclusively, without waiting) to see whether a hub runs there. If this
    /// created the lock file it removes it again (while still holding it) when disposed.
    /// </summary>
    private sealed class DirectoryLock : IDisposable
    {
        private readonly FileLock _lock;

        private DirectoryLock(FileLock fileLock, bool existed)
        {
            _lock = fileLock;
            Existed = existed;
        }

        /// <summary>Whether the lock file was there before we took it.</summary>
        public bool Existed { get; }

        /// <summary>Set when the caller deletes the lock file itself.</summary>
        public bool Deleted { get; set; }

        /// <summary>The lock, or null when a hub holds it (or it cannot be tried: a warning says why).</summary>
        public static DirectoryLock? TryTake(string directory, List<string> warnings)
        {
            string path = HubPaths.LockPath(directory);
            for (int attempt = 0; attempt < LockAttempts; attempt++)
            {
                bool existed = File.Exists(path);
                FileLock? fileLock;
                try
                {
                    fileLock = FileLock.TryAcquireExclusive(path);
                }
                catch (IpcException e)
                {
                    warnings.Add($"cannot tell whether a hub runs on {directory}, so its files are left alone: {e.Message}");
                    return null;
                }
                if (fileLock is null)
                {
                    return null;
                }
                // A hub that stopped right before deletes the lock file, then releases it: if that is the file we
                // locked, a new hub may lock a new one at the path; so try again (as HubServer does).
                if (!IsDeleted(fileLock))
                {
                    return new DirectoryLock(fileLock, existed);
                }
                fileLock.Dispose();
            }
            warnings.Add($"could not try {path}: it kept being replaced; the files of {directory} are left alone");
            return null;
        }

        /// <summary>The pid in the lock file (0 if none) and why the directory's files are stale.</summary>
        public (int Pid, string Reason) StaleReason()
        {
            int pid = ReadPid();
            if (pid > 0 && !IsAlive(pid))
            {
                return (pid, Gone(pid));
            }
            return (pid, $"no hub holds {_lock.Path}");
        }

        private int ReadPid()
        {
            try
            {
                // Through the locked descriptor: .NET's own open of the path would take a flock and fail against ours.
                using var handle = new SafeFileHandle(_lock.Handle.DangerousGetHandle(), ownsHandle: false);
                byte[] buffer = new byte[32];
                int length = RandomAccess.Read(handle, buffer, 0);
                string text = Encoding.ASCII.GetString(buffer, 0, length).Trim();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return 0;
            }
        }

        private static bool IsDeleted(FileLock fileLock)
        {
            string link = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fileLock.Handle.Fd}");
            string? target = new FileInfo(link).LinkTarget;
            return target is null || target.EndsWith(" (deleted)", StringComparison.Ordinal);
        }

        public void Dispose()
        {
            if (!Existed && !Deleted)
            {
                try
                {
                    Fifo.TryUnlink(_lock.Path); // we created it: remove it while still holding it
                }
                catch (IpcException)
                {
                    // Left as an empty file: harmless, the next hub takes it over.
                }
            }
            _lock.Dispose();
        }
    }

    // --- mounts ----------------------------------------------------------------------------------

    /// <summary>The type of the filesystem mounted at <paramref name="mountPoint"/> (the last mount there wins), or null.</summary>
    private static string? FileSystemAt(string mountPoint)
    {
        string? type = null;
        try
        {
            // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue (proc(5))
            foreach (string line in File.ReadLines("/proc/self/mountinfo"))
            {
                int separator = line.IndexOf(" - ", StringComparison.Ordinal);
                if (separator < 0)
                {
                    continue;
                }
                string[] fields = line[..separator].Split(' ');
                string[] rest = line[(separator + 3)..].Split(' ');
                if (fields.Length >= 5 && rest.Length >= 1 && string.Equals(Unescape(fields[4]), mountPoint, StringComparison.Ordinal))
                {
                    type = rest[0];
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return type;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as octal escapes (<c>\040</c>).</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var text = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';

    // --- logging ---------------------------------------------------------------------------------

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "removed the stale object {Path} ({Kind}; {Reason})")]
    private static partial void LogRemoved(ILogger logger, string path, string kind, string reason);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "could not remove the stale object {Path} ({Kind}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string path, string kind, string reason);

    [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "sweeping stale objects: {Warning}")]
    private static partial void LogWarning(ILogger logger, string warning);
}
