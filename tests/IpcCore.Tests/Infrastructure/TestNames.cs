using System.Globalization;

namespace IpcCore.Tests.Infrastructure;

/// <summary>
/// Names unique to this test run and this test, so tests run in parallel with each other and with a
/// running hub: <c>/ipccore-test.&lt;pid&gt;.&lt;n&gt;.&lt;tag&gt;</c>.
/// </summary>
internal static class TestNames
{
    private static int s_counter;

    /// <summary>A POSIX IPC name (leading '/') for shm, mq or sem.</summary>
    public static string Posix(string tag)
        => string.Create(CultureInfo.InvariantCulture, $"/ipccore-test.{Environment.ProcessId}.{Interlocked.Increment(ref s_counter)}.{tag}");

    /// <summary>A fresh private directory for files, FIFOs and sockets; delete it when done.</summary>
    public static string Directory(string tag)
    {
        string path = Path.Combine(Path.GetTempPath(),
            string.Create(CultureInfo.InvariantCulture, $"ipccore-test.{Environment.ProcessId}.{Interlocked.Increment(ref s_counter)}.{tag}"));
        System.IO.Directory.CreateDirectory(path);
        return path;
    }
}
