using IpcCore;

namespace MyIpcPub;

/// <summary>A file's bytes in a memfd sealed against every change, so a receiver can map it and trust what it reads.</summary>
internal static class SealedFile
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Copies <paramref name="path"/> into a new memfd (named after the file) and seals it (write, shrink, grow, seal).</summary>
    /// <exception cref="IOException">The file cannot be read (the message names it and why).</exception>
    public static MemoryFile Create(string path)
    {
        FileStream input;
        try
        {
            input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read '{path}': {ex.Message}", ex);
        }
        using (input)
        {
            // The label shows in /proc/<pid>/fd as memfd:<label>; memfd_create takes at most 249 bytes of it.
            string name = Path.GetFileName(path);
            MemoryFile memfd = MemoryFile.Create("myipcpub:" + (name.Length > 64 ? name[..64] : name));
            try
            {
                if (input.CanSeek)
                {
                    memfd.SetSize(input.Length); // one allocation up front; the writes then fill it
                }
                byte[] chunk = new byte[ChunkSize];
                long total = 0;
                while (true)
                {
                    int n;
                    try
                    {
                        n = input.Read(chunk, 0, chunk.Length);
                    }
                    catch (IOException ex)
                    {
                        throw new IOException($"cannot read '{path}': {ex.Message}", ex);
                    }
                    if (n == 0)
                    {
                        break;
                    }
                    memfd.Write(chunk.AsSpan(0, n));
                    total += n;
                }
                if (memfd.Size != total)
                {
                    memfd.SetSize(total); // the file changed size while read: the memfd holds what was read
                }
                memfd.AddSeals(FileSeals.Immutable);
                return memfd;
            }
            catch
            {
                memfd.Dispose();
                throw;
            }
        }
    }
}
