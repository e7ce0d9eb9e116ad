using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// An owned POSIX message-queue descriptor (mqd_t). On Linux it is a file descriptor, so it can be
/// polled or added to an epoll set like any other handle.
/// </summary>
public sealed class SafeMessageQueueHandle : SafeHandle
{
    /// <summary>An invalid handle (for the marshaller and for "no queue").</summary>
    public SafeMessageQueueHandle() : base(invalidHandleValue: -1, ownsHandle: true) { }

    internal SafeMessageQueueHandle(int mqd) : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(mqd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The descriptor number, for logs and poll sets.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => IpcNative.MqClose((int)handle) == 0;

    public override string ToString() => $"mqd {(int)handle}";
}
