namespace IpcCore.Cli;

/// <summary>Finds myipchub for the tools that start hubs of their own (myipcbench, myipcfd).</summary>
public static class HubLocator
{
    /// <summary>
    /// <paramref name="explicitPath"/> (--hub) when given; else myipchub beside this program, in bin/ of the
    /// repository it was built in (managed/TOOL/bin/CONFIG/net10.0/ → bin/myipchub, what build.sh links), then on PATH.
    /// </summary>
    /// <exception cref="UsageException">--hub names nothing, or no myipchub is found.</exception>
    public static string FindHub(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new UsageException($"--hub: '{explicitPath}' does not exist");
        }
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "myipchub") };
        for (DirectoryInfo? dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            candidates.Add(Path.Combine(dir.FullName, "bin", "myipchub"));
        }
        foreach (string entry in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(Path.Combine(entry, "myipchub"));
        }
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new UsageException("cannot find myipchub (build it with ./build.sh, or name it with --hub PATH)");
    }
}
