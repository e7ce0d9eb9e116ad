using System.Globalization;
using System.Text;
using IpcCore;

namespace MyIpcSub;

/// <summary>
/// The content of a memfd received with a message, mapped read-only, and only once its seals are checked: with
/// write, shrink and grow sealed, the sender (or anyone else holding it) can no longer change what the mapping
/// shows, nor make it shorter (which would turn a read into SIGBUS).
/// </summary>
internal sealed class SealedContent : IDisposable
{
    private const FileSeals Required = FileSeals.Write | FileSeals.Shrink | FileSeals.Grow;

    private readonly MemoryFile _file;
    private readonly MappedRegion? _map;

    private SealedContent(MemoryFile file, MappedRegion? map, long length)
    {
        _file = file;
        _map = map;
        Length = length;
    }

    /// <summary>The content's size in bytes.</summary>
    public long Length { get; }

    /// <summary>The content (empty for an empty memfd).</summary>
    public ReadOnlySpan<byte> Bytes => _map is null ? default : _map.ReadOnlySpan;

    /// <summary>Opens a received descriptor; null (and <paramref name="why"/>) when it is not a sealed memfd.</summary>
    public static SealedContent? Open(SafeFdHandle handle, out string? why)
    {
        why = null;
        var file = MemoryFile.FromHandle(FileDescriptor.Duplicate(handle), "received memfd");
        try
        {
            FileSeals seals;
            try
            {
                seals = file.GetSeals();
            }
            catch (IpcException ex)
            {
                why = $"the descriptor is not a memfd ({ex.ErrnoName} from F_GET_SEALS)";
                file.Dispose();
                return null;
            }
            if ((seals & Required) != Required)
            {
                why = $"the memfd is not sealed against changes (seals: {Describe(seals)}; needs write, shrink and grow)";
                file.Dispose();
                return null;
            }
            long size = file.Size;
            if (size > Array.MaxLength)
            {
                why = string.Create(CultureInfo.InvariantCulture, $"the memfd holds {size} bytes, more than this tool handles");
                file.Dispose();
                return null;
            }
            MappedRegion? map = size == 0 ? null : file.Map(readOnly: true);
            return new SealedContent(file, map, size);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the content into <paramref name="directory"/>, named after <paramref name="name"/> (the message's
    /// payload: the sender's file name) when that is a plain file name, else <c>message-SEQ.bin</c>; never over an
    /// existing file (then <c>NAME.SEQ</c>). Returns the path written.
    /// </summary>
    public string SaveInto(string directory, ReadOnlySpan<byte> name, ulong sequence)
    {
        string seq = sequence.ToString(CultureInfo.InvariantCulture);
        string fileName = SafeName(name) ?? $"message-{seq}.bin";
        string path = Path.Combine(directory, fileName);
        FileStream output;
        try
        {
            output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            path = Path.Combine(directory, fileName + "." + seq);
            output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
        using (output)
        {
            output.Write(Bytes);
        }
        return path;
    }

    public void Dispose()
    {
        _map?.Dispose();
        _file.Dispose();
    }

    private static string? SafeName(ReadOnlySpan<byte> name)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(name);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        if (text.Length is 0 or > 255 || text is "." or ".." || text.Contains('/', StringComparison.Ordinal)
            || text.Any(char.IsControl))
        {
            return null;
        }
        return text;
    }

    private static string Describe(FileSeals seals)
    {
        if (seals == FileSeals.None)
        {
            return "none";
        }
        var names = new List<string>();
        foreach ((FileSeals seal, string label) in new[]
                 {
                     (FileSeals.Seal, "seal"), (FileSeals.Shrink, "shrink"), (FileSeals.Grow, "grow"),
                     (FileSeals.Write, "write"), (FileSeals.FutureWrite, "future-write"),
                 })
        {
            if ((seals & seal) != 0)
            {
                names.Add(label);
            }
        }
        return string.Join(", ", names);
    }
}
