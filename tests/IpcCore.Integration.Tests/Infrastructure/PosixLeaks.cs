using System.Globalization;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>
/// POSIX IPC objects (<c>/dev/shm</c>: shared memory and <c>sem.*</c> semaphores; <c>/dev/mqueue</c>) that a
/// test's processes may have left: entries whose name holds the test's directory tag or, as a whole
/// number, the pid of a process the test started (hubs name their objects after themselves or their clients).
/// </summary>
internal static class PosixLeaks
{
    public static readonly string[] Directories = ["/dev/shm", "/dev/mqueue"];

    /// <summary>Every entry now in the POSIX IPC directories.</summary>
    public static HashSet<string> Snapshot()
    {
        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (string dir in Directories)
        {
            if (Directory.Exists(dir))
            {
                foreach (string path in Directory.EnumerateFileSystemEntries(dir))
                {
                    all.Add(path);
                }
            }
        }
        return all;
    }

    /// <summary>The entries that belong to <paramref name="pids"/> or mention <paramref name="tag"/>.</summary>
    public static List<string> Find(IEnumerable<int> pids, string tag)
    {
        var pidTokens = pids.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        var found = new List<string>();
        foreach (string path in Snapshot())
        {
            string name = Path.GetFileName(path);
            // The unit tests' own objects (ipccore-test.<pid>.<n>.<tag>) are never the hub's.
            if (name.StartsWith("ipccore-test.", StringComparison.Ordinal))
            {
                continue;
            }
            if (name.Contains(tag, StringComparison.Ordinal))
            {
                found.Add(path);
                continue;
            }
            string[] numbers = name.Split(c => !char.IsAsciiDigit(c), StringSplitOptions.RemoveEmptyEntries);
            if (numbers.Any(pidTokens.Contains))
            {
                found.Add(path);
            }
        }
        return found;
    }

    private static string[] Split(this string text, Func<char, bool> isSeparator, StringSplitOptions options)
    {
        var parts = new List<string>();
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || isSeparator(text[i]))
            {
                if (i > start || options != StringSplitOptions.RemoveEmptyEntries)
                {
                    parts.Add(text[start..i]);
                }
                start = i + 1;
            }
        }
        return [.. parts];
    }
}
