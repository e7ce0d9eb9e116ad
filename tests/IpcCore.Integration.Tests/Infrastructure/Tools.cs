using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>
/// Where the tools under test are: <c>&lt;repo&gt;/bin/myipchub</c>, <c>myipcpub</c>, <c>myipcsub</c> (symlinks
/// to the apphosts, made by ./build.sh), or the directory in <c>$IPCCORE_BIN_DIR</c>. The repository root
/// is the first directory above the test assembly that holds IpcCore.sln.
/// </summary>
internal static class Tools
{
    public const string Hub = "myipchub";
    public const string Pub = "myipcpub";
    public const string Sub = "myipcsub";
    public const string Bench = "myipcbench";

    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    public static string RepoRoot => s_repoRoot.Value;

    public static string BinDirectory
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable("IPCCORE_BIN_DIR");
            return string.IsNullOrEmpty(overridden) ? Path.Combine(RepoRoot, "bin") : Path.GetFullPath(overridden);
        }
    }

    /// <summary>The path of <paramref name="tool"/>; fails the test when it is not there.</summary>
    public static string PathOf(string tool)
    {
        string path = Path.Combine(BinDirectory, tool);
        var file = new FileInfo(path);
        // bin/<tool> is a symlink: it must lead to a file (a dangling link means the tool is not built).
        bool exists = file.Exists && (file.LinkTarget is null || file.ResolveLinkTarget(returnFinalTarget: true)?.Exists == true);
        if (!exists)
        {
            Assert.Fail($"{path} does not exist: run ./build.sh first (it builds the tools and links them into bin/; IPCCORE_BIN_DIR overrides the directory)");
        }
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IpcCore.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no directory above {AppContext.BaseDirectory} holds IpcCore.sln");
    }
}
