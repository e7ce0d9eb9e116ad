using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// A MAP_SHARED memory mapping (of <see cref="SharedMemory"/>, a <see cref="MemoryFile"/> or anonymous
/// memory). Spans and pointers into it are valid only until it is disposed: it is unmapped then, and
/// touching the memory afterwards crashes the process.
/// </summary>
public sealed unsafe class MappedRegion : IDisposable
{
    private readonly SafeMappedRegionHandle _handle;

    private MappedRegion(SafeMappedRegionHandle handle, long length, bool writable)
    {
        _handle = handle;
        Length = length;
        IsWritable = writable;
    }

    /// <summary>The mapping as a <see cref="SafeBuffer"/>.</summary>
    public SafeMappedRegionHandle Handle => _handle;

    /// <summary>The mapped length in bytes.</summary>
    public long Length { get; }

    /// <summary>Whether the mapping is PROT_WRITE; writing to a read-only mapping would crash the process.</summary>
    public bool IsWritable { get; }

    /// <summary>The first byte of the mapping (page aligned).</summary>
    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return (byte*)_handle.DangerousGetHandle();
        }
    }

    /// <summary>The whole mapping, writable. Throws for a read-only mapping (use <see cref="ReadOnlySpan"/>) or one over 2 GiB (use <see cref="GetSpan"/>).</summary>
    public Span<byte> Span
    {
        get
        {
            ThrowIfReadOnly();
            return new Span<byte>(Pointer, SpanLength(Length));
        }
    }

    /// <summary>The whole mapping, read-only. Throws for a mapping over 2 GiB (use <see cref="GetSpan"/>).</summary>
    public ReadOnlySpan<byte> ReadOnlySpan => new(Pointer, SpanLength(Length));

    /// <summary>Maps <paramref name="length"/> bytes of anonymous shared memory: shared with children, zero-filled.</summary>
    public static MappedRegion MapAnonymous(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        void* address = null;
        IpcError.Check(IpcNative.MMapAnonymous(length, (int)(MmapProt.PROT_READ | MmapProt.PROT_WRITE), (int)MmapFlags.MAP_SHARED, &address),
            "mmap", "anonymous");
        return new MappedRegion(new SafeMappedRegionHandle(address, length), length, writable: true);
    }

    /// <summary>
    /// A writable span of <paramref name="length"/> bytes at <paramref name="offset"/>. For a read-only
    /// mapping the span must only be read.
    /// </summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length - length, nameof(offset));
        return new Span<byte>(Pointer + offset, length);
    }

    /// <summary>The 32-bit word at <paramref name="offset"/> as a futex (offset 4-byte aligned, within the mapping).</summary>
    public FutexWord GetFutexWord(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length - sizeof(uint), nameof(offset));
        if ((offset & 3) != 0)
        {
            throw new ArgumentException($"A futex word must be 4-byte aligned; offset {offset} is not.", nameof(offset));
        }
        return new FutexWord((uint*)(Pointer + offset));
    }

    /// <summary>Unmaps the region (once nothing holds a reference to <see cref="Handle"/> any more).</summary>
    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"mapping of {Length} bytes{(IsWritable ? string.Empty : " (read-only)")}";

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> from offset 0, MAP_SHARED.</summary>
    internal static MappedRegion Map(SafeHandle fd, long length, bool writable, string objectName)
    {
        int prot = (int)MmapProt.PROT_READ | (writable ? (int)MmapProt.PROT_WRITE : 0);
        void* address = null;
        IpcError.Check(IpcNative.MMap(fd, length, prot, (int)MmapFlags.MAP_SHARED, 0, &address), "mmap", objectName);
        return new MappedRegion(new SafeMappedRegionHandle(address, length), length, writable);
    }

    private void ThrowIfReadOnly()
    {
        if (!IsWritable)
        {
            throw new InvalidOperationException("The mapping is read-only; writing to it would crash the process. Use ReadOnlySpan.");
        }
    }

    private static int SpanLength(long length)
        => length <= int.MaxValue
            ? (int)length
            : throw new InvalidOperationException($"The mapping ({length} bytes) is too large for one span; use GetSpan(offset, length).");
}
