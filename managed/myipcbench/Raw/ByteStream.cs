using System.Globalization;
using IpcCore;
using IpcCore.Native;

namespace MyIpcBench.Raw;

/// <summary>A byte stream (pipe, FIFO or UNIX socket) as the stream mechanisms use it: plain blocking calls.</summary>
internal interface IByteStream
{
    /// <summary>Reads what is there (at least one byte, blocking); 0 at end of stream.</summary>
    int Read(Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/>: one write(2)/sendmsg(2) unless the kernel takes less.</summary>
    void WriteAll(ReadOnlySpan<byte> data);
}

/// <summary>A pipe or FIFO end.</summary>
internal sealed class PipeByteStream : IByteStream
{
    private readonly PipeEnd _end;
    private bool _awaitWriter;

    /// <param name="end">The end, blocking unless <paramref name="awaitWriter"/>.</param>
    /// <param name="awaitWriter">
    /// A FIFO read end opened non-blocking (so opening did not wait for the writer): the first read waits
    /// until data arrives, boundedly, then the end turns blocking. A blocking read before the writer has
    /// opened would see end of stream at once.
    /// </param>
    public PipeByteStream(PipeEnd end, bool awaitWriter)
    {
        _end = end;
        _awaitWriter = awaitWriter;
    }

    public int Read(Span<byte> buffer)
    {
        if (_awaitWriter)
        {
            AwaitWriter();
        }
        return _end.Read(buffer);
    }

    public void WriteAll(ReadOnlySpan<byte> data) => _end.WriteAll(data);

    public override string ToString() => _end.ToString();

    private void AwaitWriter()
    {
        if (!Readiness.WaitReadable(_end.Handle, RawTimeouts.Peer))
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"read('{_end.Path}'): nothing arrived within {RawTimeouts.Peer.TotalSeconds:F0} s (the peer never opened the FIFO for writing)"));
        }
        _end.NonBlocking = false;
        _awaitWriter = false;
    }
}

/// <summary>A connected UNIX stream socket (both directions of the socket mechanism).</summary>
internal sealed class SocketByteStream(UnixSocket socket) : IByteStream
{
    public int Read(Span<byte> buffer) => socket.Receive(buffer);

    public void WriteAll(ReadOnlySpan<byte> data) => socket.SendAll(data);

    public override string ToString() => socket.ToString();
}

/// <summary>Bounded waits for a descriptor to become readable (rendezvous only, never per message).</summary>
internal static class Readiness
{
    /// <summary>Whether <paramref name="handle"/> became readable (or hung up) within <paramref name="timeout"/>.</summary>
    public static bool WaitReadable(SafeFdHandle handle, TimeSpan timeout)
    {
        using EpollSet epoll = EpollSet.Create();
        epoll.Add(handle, PollEvents.POLLIN, 0);
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        return epoll.Wait(events, (int)timeout.TotalMilliseconds) > 0;
    }
}
