using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>An owned POSIX named semaphore: the <c>sem_t*</c> that sem_open(3) mapped into this process.</summary>
public sealed class SafeSemaphoreHandle : SafeHandle
{
    /// <summary>An invalid handle (no semaphore).</summary>
    public SafeSemaphoreHandle() : base(invalidHandleValue: IntPtr.Zero, ownsHandle: true) { }

    internal unsafe SafeSemaphoreHandle(void* sem) : base(invalidHandleValue: IntPtr.Zero, ownsHandle: true) => SetHandle((nint)sem);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override unsafe bool ReleaseHandle() => IpcNative.SemClose((void*)handle) == 0;
}
