using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>An owned file descriptor (file, FIFO, pipe end, socket, eventfd, memfd, epoll).</summary>
public sealed class SafeFdHandle : SafeHandle
{
    /// <summary>An invalid handle (for the marshaller and for "no descriptor").</summary>
    public SafeFdHandle() : base(invalidHandleValue: -1, ownsHandle: true) { }

    /// <summary>Wraps <paramref name="fd"/>; when <paramref name="ownsHandle"/> it is closed on dispose.</summary>
    public SafeFdHandle(int fd, bool ownsHandle = true) : base(invalidHandleValue: -1, ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The descriptor number, for logs and for passing to other processes.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => IpcNative.Close((int)handle) == 0;

    public override string ToString() => $"fd {(int)handle}";
}
