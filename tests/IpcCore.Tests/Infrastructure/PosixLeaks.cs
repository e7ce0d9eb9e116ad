using System.Globalization;

namespace IpcCore.Tests.Infrastructure;

/// <summary>
/// Finds POSIX IPC objects this test process left behind: shared memory (<c>/dev/shm/&lt;name&gt;</c>),
/// semaphores (<c>/dev/shm/sem.&lt;name&gt;</c>) and message queues (<c>/dev/mqueue/&lt;name&gt;</c>, when
/// the mqueue filesystem is mounted) whose name has this process's test prefix
/// <c>ipccore-test.&lt;pid&gt;.</c> (see <see cref="TestNames.Posix"/>).
/// </summary>
/// <remarks>
/// Fixtures run in parallel, so a fixture's check must only look at its own names: it passes the
/// tag prefix its names use (TestNames.Posix("mq-...") for the fixture tag "mq").
/// </remarks>
internal static class PosixLeaks
{
    private static readonly string s_prefix = string.Create(CultureInfo.InvariantCulture, $"ipccore-test.{Environment.ProcessId}.");

    /// <summary>The left-over entries whose tag is <paramref name="fixtureTag"/> or starts with <c>fixtureTag-</c>.</summary>
    public static IReadOnlyList<string> Find(string fixtureTag)
    {
        var found = new List<string>();
        foreach (string directory in (string[])["/dev/shm", "/dev/mqueue"])
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }
            foreach (string path in Directory.EnumerateFileSystemEntries(directory))
            {
                string entry = Path.GetFileName(path);
                string name = entry.StartsWith("sem.", StringComparison.Ordinal) ? entry[4..] : entry;
                if (!name.StartsWith(s_prefix, StringComparison.Ordinal))
                {
                    continue;
                }
                // <pid>.<counter>.<tag>: the tag follows the counter.
                string rest = name[s_prefix.Length..];
                int dot = rest.IndexOf('.', StringComparison.Ordinal);
                string tag = dot < 0 ? string.Empty : rest[(dot + 1)..];
                if (tag == fixtureTag || tag.StartsWith(fixtureTag + "-", StringComparison.Ordinal))
                {
                    found.Add(path);
                }
            }
        }
        return found;
    }
}
