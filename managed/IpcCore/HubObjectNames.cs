using System.Globalization;

namespace IpcCore;

/// <summary>
/// The names of every IPC object a hub creates. Per-client objects carry the hub's pid and the client id,
/// so a hub that starts (or <c>myipchub gc</c>) can tell a dead hub's leftovers from a live hub's objects:
/// <list type="bullet">
/// <item>shared memory: <c>/ipchub.&lt;pid&gt;.&lt;id&gt;.c2h</c>, <c>.h2c</c> (in /dev/shm), their semaphores
/// <c>/ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;c2h|h2c&gt;.&lt;data|space&gt;</c> (/dev/shm/sem.*)</item>
/// <item>message queues: <c>/ipchub.&lt;pid&gt;.&lt;id&gt;.c2h</c>, <c>.h2c</c> (in the mq namespace, /dev/mqueue)</item>
/// <item>FIFOs: <c>&lt;dir&gt;/ipchub.&lt;pid&gt;.&lt;id&gt;.c2h</c>, <c>.h2c</c>, and the inbox <c>&lt;dir&gt;/publish.fifo</c></item>
/// </list>
/// </summary>
public static class HubObjectNames
{
    /// <summary>The first part of every per-client name (a POSIX name adds a leading slash).</summary>
    public const string Prefix = "ipchub.";

    /// <summary>How /dev/shm shows a named semaphore: <c>sem.</c> and the name without its slash.</summary>
    public const string SemaphoreFilePrefix = "sem.";

    /// <summary>The client→hub object's suffix.</summary>
    public const string ClientToHub = "c2h";

    /// <summary>The hub→client object's suffix.</summary>
    public const string HubToClient = "h2c";

    /// <summary>The inbox FIFO's file name in the hub directory.</summary>
    public const string InboxFileName = "publish.fifo";

    /// <summary>Where /dev/shm and the mq namespace are mounted.</summary>
    public const string SharedMemoryDirectory = "/dev/shm";

    /// <summary>Where the POSIX message-queue namespace is mounted (when it is).</summary>
    public const string MessageQueueDirectory = "/dev/mqueue";

    /// <summary><c>ipchub.&lt;pid&gt;.&lt;id&gt;.&lt;direction&gt;</c>, without a slash (a FIFO's file name; a POSIX name adds one).</summary>
    public static string ClientObject(int hubPid, ulong clientId, string direction)
        => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{hubPid}.{clientId}.{direction}");

    /// <summary>The POSIX name (leading slash) of a client's shared-memory object or message queue.</summary>
    public static string PosixName(int hubPid, ulong clientId, string direction) => "/" + ClientObject(hubPid, clientId, direction);

    /// <summary>A FIFO's path in <paramref name="hubDirectory"/>.</summary>
    public static string FifoPath(string hubDirectory, int hubPid, ulong clientId, string direction)
        => Path.Combine(hubDirectory, ClientObject(hubPid, clientId, direction));

    /// <summary>The inbox FIFO's path in <paramref name="hubDirectory"/>.</summary>
    public static string InboxPath(string hubDirectory) => Path.Combine(hubDirectory, InboxFileName);

    /// <summary>
    /// The hub pid in a per-client name (<c>ipchub.&lt;pid&gt;.…</c>, optionally after <c>sem.</c>), or 0 when
    /// <paramref name="fileName"/> is not one.
    /// </summary>
    public static int HubPidOf(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ReadOnlySpan<char> rest = fileName;
        if (rest.StartsWith(SemaphoreFilePrefix, StringComparison.Ordinal))
        {
            rest = rest[SemaphoreFilePrefix.Length..];
        }
        if (!rest.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return 0;
        }
        rest = rest[Prefix.Length..];
        int dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
        {
            return 0;
        }
        return pid;
    }
}
