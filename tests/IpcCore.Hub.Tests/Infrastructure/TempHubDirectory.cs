using System.Globalization;

namespace IpcCore.Hub.Tests.Infrastructure;

/// <summary>
/// A unique path under /tmp for one test's hub directory (<c>/tmp/ipchub-unit.&lt;pid&gt;.&lt;n&gt;.&lt;tag&gt;</c>),
/// not created, so the hub creates it; deleted with everything in it on dispose.
/// </summary>
internal sealed class TempHubDirectory : IDisposable
{
    public const string Prefix = "ipchub-unit.";

    private static int s_counter;

    public TempHubDirectory(string tag)
        => Path = string.Create(CultureInfo.InvariantCulture,
            $"/tmp/{Prefix}{Environment.ProcessId}.{Interlocked.Increment(ref s_counter)}.{tag}");

    public string Path { get; }

    public string SocketPath => System.IO.Path.Combine(Path, HubPaths.SocketFileName);

    public string LockPath => System.IO.Path.Combine(Path, HubPaths.LockFileName);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
