namespace IpcCore;

/// <summary>
/// The outcome of a non-throwing read or write (<c>TryRead</c>, <c>TryWrite</c>, <c>TrySend</c>,
/// <c>TryReceive</c>): a status and, on <see cref="IoStatus.Success"/>, the number of bytes moved.
/// A small value type, so the hot path allocates nothing.
/// </summary>
/// <param name="Status">How the call ended.</param>
/// <param name="BytesTransferred">Bytes read or written; 0 unless <paramref name="Status"/> is <see cref="IoStatus.Success"/>.</param>
public readonly record struct IoResult(IoStatus Status, int BytesTransferred)
{
    /// <summary>Whether bytes were transferred (<see cref="IoStatus.Success"/>).</summary>
    public bool IsSuccess => Status == IoStatus.Success;

    internal static IoResult Transferred(int bytes) => new(IoStatus.Success, bytes);

    internal static IoResult Blocked => new(IoStatus.WouldBlock, 0);

    internal static IoResult Ended => new(IoStatus.EndOfStream, 0);

    internal static IoResult Closed => new(IoStatus.PeerClosed, 0);

    public override string ToString() => Status == IoStatus.Success ? $"Success({BytesTransferred} bytes)" : Status.ToString();
}
