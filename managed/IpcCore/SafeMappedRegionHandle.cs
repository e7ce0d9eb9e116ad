using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// An owned mmap(2) mapping. It is a <see cref="SafeBuffer"/>, so <see cref="SafeBuffer.ByteLength"/>,
/// <see cref="SafeBuffer.AcquirePointer"/> and the bounds-checked Read/Write helpers work on it, and it
/// is unmapped (munmap(2)) exactly once, when the last user releases it.
/// </summary>
public sealed class SafeMappedRegionHandle : SafeBuffer
{
    /// <summary>An invalid handle (no mapping).</summary>
    public SafeMappedRegionHandle() : base(ownsHandle: true) { }

    internal unsafe SafeMappedRegionHandle(void* address, long length) : base(ownsHandle: true)
    {
        SetHandle((nint)address);
        Initialize((ulong)length);
    }

    protected override unsafe bool ReleaseHandle() => IpcNative.MUnmap((void*)handle, checked((long)ByteLength)) == 0;
}
