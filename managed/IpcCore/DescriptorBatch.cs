using System.Globalization;

namespace IpcCore;

/// <summary>
/// The descriptors one sendmsg carried (one SCM_RIGHTS batch), as received: every one wrapped in a
/// <see cref="SafeFdHandle"/> the holder owns, or, when the kernel could not hand them over (MSG_CTRUNC:
/// the receiver's descriptor table was full), a record that a batch was lost. On a stream that frames
/// messages, batch N belongs to the Nth message that declares descriptors (see <see cref="DescriptorInbox"/>).
/// </summary>
public sealed class DescriptorBatch : IDisposable
{
    private SafeFdHandle[] _handles;

    private DescriptorBatch(SafeFdHandle[] handles, bool lost)
    {
        _handles = handles;
        IsLost = lost;
    }

    /// <summary>The received descriptors, in the order they were sent (empty when lost or disposed).</summary>
    public IReadOnlyList<SafeFdHandle> Handles => _handles;

    /// <summary>How many descriptors the batch holds.</summary>
    public int Count => _handles.Length;

    /// <summary>Whether the batch was lost on the way in (MSG_CTRUNC): the message it belongs to has none of its descriptors.</summary>
    public bool IsLost { get; }

    /// <summary>A batch of received descriptors; takes ownership of <paramref name="handles"/>.</summary>
    public static DescriptorBatch Received(SafeFdHandle[] handles)
    {
        ArgumentNullException.ThrowIfNull(handles);
        return new DescriptorBatch(handles, lost: false);
    }

    /// <summary>The record of a batch the kernel could not hand over.</summary>
    public static DescriptorBatch Lost() => new([], lost: true);

    /// <summary>
    /// Takes the handles out of the batch: the caller owns them from now on, and disposing the batch no
    /// longer closes them.
    /// </summary>
    public SafeFdHandle[] TakeHandles()
    {
        SafeFdHandle[] handles = _handles;
        _handles = [];
        return handles;
    }

    /// <summary>Closes every descriptor still in the batch.</summary>
    public void Dispose()
    {
        SafeFdHandle[] handles = _handles;
        _handles = [];
        foreach (SafeFdHandle handle in handles)
        {
            handle.Dispose();
        }
    }

    public override string ToString() => IsLost
        ? "lost descriptor batch"
        : string.Create(CultureInfo.InvariantCulture, $"{_handles.Length} descriptors");
}
