using System.Globalization;

namespace IpcCore.Hub;

/// <summary>What a <see cref="StaleObject"/> is (each kind has its own way of being removed).</summary>
public enum StaleObjectKind
{
    /// <summary>A POSIX shared-memory object in /dev/shm (shm_unlink).</summary>
    SharedMemory,

    /// <summary>A named POSIX semaphore, /dev/shm/sem.* (sem_unlink).</summary>
    Semaphore,

    /// <summary>A POSIX message queue, /dev/mqueue/* (mq_unlink).</summary>
    MessageQueue,

    /// <summary>A client's FIFO in a hub directory (unlink).</summary>
    Fifo,

    /// <summary>A hub directory's control socket, hub.sock, that nobody listens on (unlink).</summary>
    Socket,

    /// <summary>A hub directory's lock file, hub.lock, that no hub holds (unlink, while holding it).</summary>
    Lock,

    /// <summary>A hub directory's inbox FIFO, publish.fifo (unlink).</summary>
    Inbox,
}

/// <summary>
/// An IPC object left behind by a hub that is no longer running, as <see cref="StaleObjects.Find"/> found it:
/// its kind, its path as users see it (<c>/dev/shm/ipchub.123.4.c2h</c>, <c>/dev/mqueue/ipchub.123.4.h2c</c>,
/// <c>/run/user/1000/ipchub/ipchub.123.4.c2h</c>), the dead hub's pid (0 when unknown) and why it is stale.
/// </summary>
public sealed class StaleObject : IEquatable<StaleObject>
{
    internal StaleObject(StaleObjectKind kind, string path, int hubPid, string reason)
    {
        Kind = kind;
        Path = path;
        HubPid = hubPid;
        Reason = reason;
    }

    /// <summary>What the object is.</summary>
    public StaleObjectKind Kind { get; }

    /// <summary>Where it is, as shown to users (a message queue as <c>/dev/mqueue/&lt;name&gt;</c>).</summary>
    public string Path { get; }

    /// <summary>The pid of the hub that left it, or 0 when unknown.</summary>
    public int HubPid { get; }

    /// <summary>Why it is stale, e.g. <c>hub pid 123 is gone</c>.</summary>
    public string Reason { get; }

    /// <summary>The kind in words: shared memory, semaphore, message queue, FIFO, socket, lock file, inbox FIFO.</summary>
    public string KindName => NameOf(Kind);

    /// <summary>
    /// The POSIX name for shm_unlink, sem_unlink or mq_unlink (<c>/ipchub.123.4.c2h</c>; a semaphore's name without
    /// its <c>sem.</c> file prefix), or the path itself for the files in a directory.
    /// </summary>
    internal string UnlinkName => Kind switch
    {
        StaleObjectKind.SharedMemory or StaleObjectKind.MessageQueue => "/" + System.IO.Path.GetFileName(Path),
        StaleObjectKind.Semaphore => "/" + System.IO.Path.GetFileName(Path)[HubObjectNames.SemaphoreFilePrefix.Length..],
        _ => Path,
    };

    /// <summary>The kind in words (see <see cref="KindName"/>).</summary>
    public static string NameOf(StaleObjectKind kind) => kind switch
    {
        StaleObjectKind.SharedMemory => "shared memory",
        StaleObjectKind.Semaphore => "semaphore",
        StaleObjectKind.MessageQueue => "message queue",
        StaleObjectKind.Fifo => "FIFO",
        StaleObjectKind.Socket => "socket",
        StaleObjectKind.Lock => "lock file",
        StaleObjectKind.Inbox => "inbox FIFO",
        _ => kind.ToString(),
    };

    /// <summary><c>/dev/shm/ipchub.123.4.c2h (shared memory; hub pid 123 is gone)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Path} ({KindName}; {Reason})");

    public bool Equals(StaleObject? other)
        => other is not null && other.Kind == Kind && string.Equals(other.Path, Path, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as StaleObject);

    public override int GetHashCode() => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(Path));
}

/// <summary>A stale object that could not be removed, and why (the <see cref="IpcException"/> message, with its errno).</summary>
public sealed class StaleObjectFailure
{
    internal StaleObjectFailure(StaleObject staleObject, string message, int errorNumber)
    {
        Object = staleObject;
        Message = message;
        ErrorNumber = errorNumber;
    }

    /// <summary>The object that is still there.</summary>
    public StaleObject Object { get; }

    /// <summary>Why, e.g. <c>shm_unlink('/ipchub.123.4.c2h'): EACCES (Permission denied)</c>.</summary>
    public string Message { get; }

    /// <summary>The errno (positive), or 0 when the failure was not a system call's.</summary>
    public int ErrorNumber { get; }

    public override string ToString() => $"{Object.Path} ({Object.KindName}): {Message}";
}

/// <summary>What <see cref="StaleObjects.Sweep"/> or <see cref="StaleObjects.Remove"/> did.</summary>
public sealed class StaleSweepResult
{
    internal StaleSweepResult(bool dryRun, IReadOnlyList<StaleObject> objects, IReadOnlyList<StaleObjectFailure> failures,
        IReadOnlyList<string> warnings)
    {
        DryRun = dryRun;
        Objects = objects;
        Failures = failures;
        Warnings = warnings;
    }

    /// <summary>Whether nothing was removed (the objects are what a real sweep would remove).</summary>
    public bool DryRun { get; }

    /// <summary>The objects removed (a dry run: the objects that would be removed).</summary>
    public IReadOnlyList<StaleObject> Objects { get; }

    /// <summary>The objects that could not be removed (never in a dry run).</summary>
    public IReadOnlyList<StaleObjectFailure> Failures { get; }

    /// <summary>
    /// What could not be looked at, once each: the message-queue namespace is not mounted
    /// (<see cref="StaleObjects.MessageQueueNotMounted"/>), a directory could not be listed, a lock could not be tried.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; }
}
