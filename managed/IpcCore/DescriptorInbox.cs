namespace IpcCore;

/// <summary>
/// The descriptor batches received on one stream and not yet claimed, in arrival order. A sender attaches
/// a message's descriptors to a sendmsg no later than the message's own bytes and in message order, so the
/// receiver gives the next batch to the next complete message that declares descriptors. The inbox owns
/// what it holds and closes it when disposed.
/// </summary>
public sealed class DescriptorInbox : IDisposable
{
    private readonly Queue<DescriptorBatch> _batches = new();
    private bool _disposed;

    /// <summary>Batches waiting (lost ones included).</summary>
    public int Batches => _batches.Count;

    /// <summary>Descriptors held, over every waiting batch.</summary>
    public int Descriptors { get; private set; }

    /// <summary>Adds a received batch (the inbox owns it from now on; after disposal it is closed at once).</summary>
    public void Add(DescriptorBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_disposed)
        {
            batch.Dispose();
            return;
        }
        _batches.Enqueue(batch);
        Descriptors += batch.Count;
    }

    /// <summary>Takes the oldest batch (the caller owns it); false when none waits.</summary>
    public bool TryTake(out DescriptorBatch batch)
    {
        if (_batches.TryDequeue(out DescriptorBatch? taken))
        {
            Descriptors -= taken.Count;
            batch = taken;
            return true;
        }
        batch = null!;
        return false;
    }

    /// <summary>The oldest batch, left in the inbox; false when none waits.</summary>
    public bool TryPeek(out DescriptorBatch batch)
    {
        if (_batches.TryPeek(out DescriptorBatch? first))
        {
            batch = first;
            return true;
        }
        batch = null!;
        return false;
    }

    /// <summary>Closes every descriptor still waiting.</summary>
    public void Clear()
    {
        while (_batches.TryDequeue(out DescriptorBatch? batch))
        {
            batch.Dispose();
        }
        Descriptors = 0;
    }

    public void Dispose()
    {
        _disposed = true;
        Clear();
    }
}
