using System.Globalization;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>Names unique to this test run: <c>/tmp/ipccore-it.&lt;pid&gt;.&lt;n&gt;.&lt;tag&gt;</c>.</summary>
internal static class TestNames
{
    private static int s_counter;

    /// <summary>The prefix of every directory this run creates (<c>ipccore-it.&lt;pid&gt;.</c>).</summary>
    public static readonly string RunPrefix = string.Create(CultureInfo.InvariantCulture, $"ipccore-it.{Environment.ProcessId}.");

    /// <summary>A fresh hub directory path (not created).</summary>
    public static string HubDirectory(string tag)
        => Path.Combine("/tmp", string.Create(CultureInfo.InvariantCulture, $"{RunPrefix}{Interlocked.Increment(ref s_counter)}.{tag}"));
}
