using System.Runtime.InteropServices;
using IpcCore.Protocol;

namespace IpcCore.Hub.Transports;

/// <summary>
/// How frame bytes move between the hub and one client: non-blocking reads into and writes from spans,
/// over handles the event loop can poll. The connection above it (<see cref="ClientConnection"/>) knows
/// nothing of the mechanism, so every transport shares the frame assembler, the router and the queues.
/// </summary>
/// <remarks>
/// The socket transport reads and writes the control socket itself (<see cref="SharesControlSocket"/>).
/// The others (FIFO pair, message-queue pair, shared-memory rings, passed pipes) keep the control socket
/// for the handshake, SO_PEERCRED and liveness, and move every later frame over
/// <see cref="ReadHandle"/>/<see cref="WriteHandle"/>; the rings expose their doorbell eventfd there.
/// </remarks>
public interface IClientDataPath : IDisposable
{
    /// <summary>The mechanism, as granted in Welcome.</summary>
    TransportKind Kind { get; }

    /// <summary>Whether the data path is the control socket itself (so the loop registers one handle).</summary>
    bool SharesControlSocket { get; }

    /// <summary>The handle that becomes readable when <see cref="Read"/> has bytes (POLLIN).</summary>
    SafeHandle ReadHandle { get; }

    /// <summary>The handle that becomes writable when <see cref="Write"/> can take bytes (POLLOUT); may be <see cref="ReadHandle"/>.</summary>
    SafeHandle WriteHandle { get; }

    /// <summary>
    /// The transport-specific bytes that follow the fixed part of Welcome (names of the FIFOs, queues or
    /// shared-memory object); empty for the socket.
    /// </summary>
    ReadOnlySpan<byte> WelcomeExtension { get; }

    /// <summary>Descriptors sent with Welcome (SCM_RIGHTS): the shared-memory doorbell, the client's pipe ends; usually none.</summary>
    IReadOnlyList<SafeHandle> WelcomeDescriptors { get; }

    /// <summary>Welcome (with <see cref="WelcomeDescriptors"/>) is on its way: the hub's copies of the client's descriptors can go.</summary>
    void WelcomeSent();

    /// <summary>Reads what is available, without waiting: bytes, WouldBlock, EndOfStream or PeerClosed.</summary>
    IoResult Read(Span<byte> destination);

    /// <summary>
    /// Like <see cref="Read"/>, and a descriptor batch that came with the bytes goes to <paramref name="inbox"/>
    /// (the socket). Paths that carry no descriptors in their stream just read.
    /// </summary>
    IoResult Read(Span<byte> destination, DescriptorInbox inbox) => Read(destination);

    /// <summary>How the path carries descriptors attached to messages.</summary>
    DescriptorCarriage Descriptors => DescriptorCarriage.None;

    /// <summary>
    /// <see cref="DescriptorCarriage.InBand"/>: writes <paramref name="source"/> with <paramref name="descriptors"/>
    /// attached to its first byte (one sendmsg); "would block" means nothing, descriptors included, was sent.
    /// </summary>
    IoResult WriteWithDescriptors(ReadOnlySpan<byte> source, ReadOnlySpan<SafeHandle> descriptors)
        => throw new NotSupportedException($"the {Kind} transport carries no descriptors");

    /// <summary>
    /// <see cref="DescriptorCarriage.Ahead"/>: sends one batch on the side channel now, before the frame it belongs
    /// to is written; "would block" means it was not sent.
    /// </summary>
    IoResult SendDescriptorsAhead(ReadOnlySpan<SafeHandle> descriptors)
        => throw new NotSupportedException($"the {Kind} transport carries no descriptors");

    /// <summary>
    /// <see cref="DescriptorCarriage.Ahead"/>: moves the next batch waiting on the side channel (if one is there)
    /// into <paramref name="inbox"/>, without waiting; false when the side channel ended.
    /// </summary>
    bool ReceiveDescriptorsAhead(DescriptorInbox inbox) => true;

    /// <summary>Writes what fits, without waiting: bytes taken, WouldBlock or PeerClosed.</summary>
    IoResult Write(ReadOnlySpan<byte> source);

    /// <summary>
    /// Whether bytes <see cref="Write"/> took still wait in the path itself (a message-queue message that did
    /// not fit the queue yet): the loop then waits for POLLOUT and calls <see cref="FlushOutput"/>.
    /// </summary>
    bool HasPendingOutput => false;

    /// <summary>Sends what <see cref="HasPendingOutput"/> holds, without waiting.</summary>
    IoResult FlushOutput() => new(IoStatus.Success, 0);

    /// <summary>
    /// Delivers <paramref name="publish"/> as the Data frame of channel sequence <paramref name="sequence"/>
    /// straight into the path, bypassing the outbound queue: only called when nothing is queued (the stream is
    /// at a frame boundary and the order is kept). False when the path cannot (then the frame is queued as
    /// usual). The shared-memory ring takes it with one copy and no trip through a queue that may be cold.
    /// </summary>
    bool TryWriteData(ReadOnlySpan<byte> publish, ulong sequence) => false;
}

/// <summary>How a client's data path carries the descriptors attached to messages.</summary>
public enum DescriptorCarriage
{
    /// <summary>It cannot (FIFO, message queue, shared memory): such messages are not sent to the client.</summary>
    None,

    /// <summary>Attached to the first byte of their frame in the same stream (the socket: sendmsg with SCM_RIGHTS).</summary>
    InBand,

    /// <summary>
    /// Sent ahead on the control socket (a 1-byte message carrying the batch), in frame order and before the
    /// frame is written into the data stream (the pipe transport).
    /// </summary>
    Ahead,
}
