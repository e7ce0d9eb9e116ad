using IpcCore.Native;

namespace IpcCore;

/// <summary>Anonymous pipes (pipe2(2)): a one-way byte stream between two <see cref="PipeEnd"/>s, typically handed to a child or over a <see cref="UnixSocket"/>.</summary>
public static class Pipe
{
    /// <summary>
    /// PIPE_BUF (4096 on Linux): a write of at most this many bytes to a pipe or FIFO is atomic, so
    /// messages of several writers never interleave as long as each fits.
    /// </summary>
    public static int AtomicWriteLimit => IpcNative.GetPipeBuf();

    /// <summary>Creates a pipe. Both ends are close-on-exec.</summary>
    /// <param name="nonBlocking">Both ends fail with EAGAIN instead of waiting.</param>
    /// <param name="direct">Packet mode (O_DIRECT): each write of up to <see cref="AtomicWriteLimit"/> bytes is one packet and each read returns at most one.</param>
    /// <exception cref="IpcException">EMFILE or ENFILE when out of descriptors.</exception>
    public static unsafe (PipeEnd Reader, PipeEnd Writer) Create(bool nonBlocking = false, bool direct = false)
    {
        int flags = (nonBlocking ? (int)PipeFlags.PIPE_NONBLOCK : 0) | (direct ? (int)PipeFlags.PIPE_DIRECT : 0);
        int* fds = stackalloc int[2];
        IpcError.Check(IpcNative.Pipe2(fds, flags), "pipe2");
        // Own both descriptors before anything else can fail.
        var reader = new SafeFdHandle(fds[0]);
        var writer = new SafeFdHandle(fds[1]);
        return (new PipeEnd(reader, FileAccess.Read, path: null), new PipeEnd(writer, FileAccess.Write, path: null));
    }
}
