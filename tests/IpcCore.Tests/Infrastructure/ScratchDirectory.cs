namespace IpcCore.Tests.Infrastructure;

/// <summary>
/// A private directory (<see cref="TestNames.Directory"/>) for the sockets, FIFOs and files of one
/// test, deleted with everything in it on dispose, so a test leaves nothing behind even when it fails.
/// </summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory(string tag) => Path = TestNames.Directory(tag);

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
