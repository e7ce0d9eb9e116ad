using IpcCore.Native;

namespace IpcCore.Tests.Infrastructure;

/// <summary>Bounded waits on descriptors, so a test whose peer died fails instead of hanging.</summary>
internal static class Waits
{
    public static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Accepts the next connection on <paramref name="listener"/>, failing after <see cref="PeerTimeout"/>.</summary>
    public static UnixSocket Accept(UnixSocket listener, Peer? peer = null)
    {
        if (FileDescriptor.Poll(listener.Handle, PollEvents.POLLIN, (int)PeerTimeout.TotalMilliseconds) == 0)
        {
            throw new TimeoutException($"no connection on {listener.Path} within {PeerTimeout}; peer stderr: {peer?.StandardErrorSoFar()}");
        }
        return listener.Accept();
    }

    /// <summary>Reads <paramref name="reader"/> until end of stream, failing when no byte arrives for <see cref="PeerTimeout"/>.</summary>
    public static byte[] ReadToEnd(PipeEnd reader)
    {
        using var content = new MemoryStream();
        byte[] chunk = new byte[4096];
        while (true)
        {
            if (FileDescriptor.Poll(reader.Handle, PollEvents.POLLIN, (int)PeerTimeout.TotalMilliseconds) == 0)
            {
                throw new TimeoutException($"{reader} stayed empty for {PeerTimeout}");
            }
            int read = reader.Read(chunk);
            if (read == 0)
            {
                return content.ToArray();
            }
            content.Write(chunk, 0, read);
        }
    }
}
