using System.Text;

namespace IpcCore.Client;

/// <summary>
/// What the receive thread knows about one channel: its name as a string (made once), the last sequence
/// number seen (gap detection) and which local subscriptions match it (recomputed when they change).
/// </summary>
internal sealed class ChannelEntry
{
    public ChannelEntry(byte[] name, int hash)
    {
        Name = name;
        Hash = hash;
        NameString = Encoding.UTF8.GetString(name);
    }

    public byte[] Name { get; }

    public int Hash { get; }

    public string NameString { get; }

    public ChannelEntry? Next { get; set; }

    /// <summary>The highest sequence received with none missing before it (0: none yet).</summary>
    public ulong LastSequence { get; set; }

    /// <summary>Sequences received early, past a gap, because a higher priority overtook (message queues); null until the first.</summary>
    public HashSet<ulong>? Ahead { get; set; }

    public int MatchesVersion { get; set; } = -1;

    public int ResetVersion { get; set; }

    public HubSubscription[] Matches { get; set; } = [];
}

/// <summary>
/// The receive thread's channels, keyed by the channel's bytes so a received message is looked up without
/// making a string. Used by one thread only. Bounded: past <see cref="MaxEntries"/> channels it starts over.
/// </summary>
internal sealed class ChannelCache
{
    public const int MaxEntries = 4096;

    private ChannelEntry?[] _buckets = new ChannelEntry?[64];
    private int _count;

    public int Count => _count;

    public ChannelEntry Get(ReadOnlySpan<byte> name)
    {
        int hash = HashOf(name);
        for (ChannelEntry? e = _buckets[hash & (_buckets.Length - 1)]; e is not null; e = e.Next)
        {
            if (e.Hash == hash && name.SequenceEqual(e.Name))
            {
                return e;
            }
        }
        return Add(name, hash);
    }

    /// <summary>Every entry (not on the hot path).</summary>
    public IEnumerable<ChannelEntry> Entries()
    {
        foreach (ChannelEntry? head in _buckets)
        {
            for (ChannelEntry? e = head; e is not null; e = e.Next)
            {
                yield return e;
            }
        }
    }

    public void Clear()
    {
        _buckets = new ChannelEntry?[64];
        _count = 0;
    }

    private ChannelEntry Add(ReadOnlySpan<byte> name, int hash)
    {
        if (_count >= MaxEntries)
        {
            Clear();
        }
        else if (_count >= _buckets.Length)
        {
            Grow();
        }
        var entry = new ChannelEntry(name.ToArray(), hash);
        ref ChannelEntry? head = ref _buckets[hash & (_buckets.Length - 1)];
        entry.Next = head;
        head = entry;
        _count++;
        return entry;
    }

    private void Grow()
    {
        var buckets = new ChannelEntry?[_buckets.Length * 2];
        foreach (ChannelEntry? head in _buckets)
        {
            ChannelEntry? e = head;
            while (e is not null)
            {
                ChannelEntry? next = e.Next;
                ref ChannelEntry? slot = ref buckets[e.Hash & (buckets.Length - 1)];
                e.Next = slot;
                slot = e;
                e = next;
            }
        }
        _buckets = buckets;
    }

    private static int HashOf(ReadOnlySpan<byte> name)
    {
        var hash = default(HashCode);
        hash.AddBytes(name);
        return hash.ToHashCode();
    }
}
