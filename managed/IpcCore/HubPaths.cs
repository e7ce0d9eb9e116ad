using System.Globalization;

namespace IpcCore;

/// <summary>
/// Where a hub keeps its runtime files: <c>--dir</c> if given, else <c>$IPCHUB_DIR</c>, else
/// <c>$XDG_RUNTIME_DIR/ipchub</c>, else <c>/tmp/ipchub-&lt;uid&gt;</c>. The hub and its clients resolve it the
/// same way, so a client finds the hub of its user without options.
/// </summary>
public static class HubPaths
{
    /// <summary>The environment variable that names the hub directory.</summary>
    public const string DirectoryVariable = "IPCHUB_DIR";

    /// <summary>The hub's control socket in a hub directory.</summary>
    public const string SocketFileName = "hub.sock";

    /// <summary>The lock file that keeps a second hub off a directory.</summary>
    public const string LockFileName = "hub.lock";

    /// <summary>The hub directory for an explicit <paramref name="directory"/> (may be null), as an absolute path.</summary>
    public static string ResolveDirectory(string? directory)
    {
        if (!string.IsNullOrEmpty(directory))
        {
            return Path.GetFullPath(directory);
        }
        string? fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtime) && Directory.Exists(runtime))
        {
            return Path.Combine(runtime, "ipchub");
        }
        return string.Create(CultureInfo.InvariantCulture, $"/tmp/ipchub-{ProcessInfo.EffectiveUid}");
    }

    /// <summary>The control socket's path in <paramref name="hubDirectory"/>.</summary>
    public static string SocketPath(string hubDirectory) => Path.Combine(hubDirectory, SocketFileName);

    /// <summary>The lock file's path in <paramref name="hubDirectory"/>.</summary>
    public static string LockPath(string hubDirectory) => Path.Combine(hubDirectory, LockFileName);
}
