namespace IpcCore;

/// <summary>
/// How a non-throwing read or write on a descriptor ended. None of these is an error: a busy hub
/// sees each of them all the time, so they are values rather than exceptions.
/// </summary>
public enum IoStatus
{
    /// <summary>Bytes were transferred (or the buffer was empty and nothing was asked for).</summary>
    Success = 0,

    /// <summary>The descriptor is non-blocking and nothing could be transferred now (EAGAIN).</summary>
    WouldBlock = 1,

    /// <summary>Reading: the other end closed and everything it wrote has been read (read returned 0).</summary>
    EndOfStream = 2,

    /// <summary>The other end is gone: writing to a pipe or socket nobody reads any more (EPIPE), or a reset connection (ECONNRESET).</summary>
    PeerClosed = 3,
}
