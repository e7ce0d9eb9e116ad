using IpcCore.Cli;

namespace MyIpcBench;

/// <summary>Finds myipchub: --hub, beside this program, in bin/ of the repository it was built in, then on PATH.</summary>
internal static class ProgramLocator
{
    public static string FindHub(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new UsageException($"--hub: '{explicitPath}' does not exist");
        }
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "myipchub") };
        // managed/myipcbench/bin/<config>/net10.0/ → the repository's bin/myipchub (what build.sh links).
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
