using System.Runtime.InteropServices;

namespace IpcCore.Hub;

/// <summary>
/// The hub's copies of the descriptors one Publish carried. The hub keeps a single copy of each, however many
/// subscribers get the message: sendmsg makes each subscriber its own (that is the per-subscriber duplicate),
/// so the copy is only needed until the last queue that holds the message has sent it or thrown it away.
/// Counted references, one per holder; the last release closes them. Only the event-loop thread touches it.
/// </summary>
internal sealed class SharedDescriptors
{
    private SafeFdHandle[] _handles;
    private int _references = 1;

    /// <summary>Takes ownership of <paramref name="handles"/>, with one reference (the publish being routed).</summary>
    public SharedDescriptors(SafeFdHandle[] handles) => _handles = handles;

    /// <summary>The descriptors, as sendmsg wants them.</summary>
    public ReadOnlySpan<SafeHandle> Handles => _handles;

    public int Count => _handles.Length;

    /// <summary>Whether the descriptors are closed (every holder released them).</summary>
    public bool IsClosed => _references == 0;

    /// <summary>One more holder (a queue the message went into).</summary>
    public void Retain()
    {
        ObjectDisposedException.ThrowIf(_references == 0, this);
        _references++;
    }

    /// <summary>A holder is done (sent, dropped, or its client went); the last one closes the descriptors.</summary>
    public void Release()
    {
        if (_references == 0)
        {
            return;
        }
        if (--_references == 0)
        {
            SafeFdHandle[] handles = _handles;
            _handles = [];
            foreach (SafeFdHandle handle in handles)
            {
                handle.Dispose();
            }
        }
    }
}
