namespace MyIpcFd;

/// <summary>How the demo starts itself again as a helper process.</summary>
internal static class SelfCommand
{
    /// <summary>
    /// How to start this program again: its apphost, or <c>dotnet myipcfd.dll</c> when it was started that way.
    /// </summary>
    public static IReadOnlyList<string> Self()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where myipcfd itself is");
        if (string.Equals(Path.GetFileNameWithoutExtension(process), "dotnet", StringComparison.Ordinal))
        {
            return [process, typeof(SelfCommand).Assembly.Location];
        }
        return [process];
    }
}
