using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace IpcCore.Hub;

/// <summary>
/// A channel the hub has routed to: its name (UTF-8), its sequence counter, its cached route (the
/// subscribers, one entry per client) and the publishers waiting for it under backpressure.
/// </summary>
internal sealed class Channel
{
    private static readonly ClientConnection[] s_noRoute = [];

    internal Channel(byte[] name, int hash)
    {
        Name = name;
        Hash = hash;
    }

    /// <summary>The name's UTF-8 bytes (the table's key).</summary>
    public byte[] Name { get; }

    /// <summary>The key's hash (compared before the bytes).</summary>
    public int Hash { get; }

    /// <summary>The sequence number of the last message routed (the first gets 1).</summary>
    public ulong Sequence { get; set; }

    /// <summary>The route: <see cref="RouteCount"/> subscribers, valid while <see cref="RouteVersion"/> is the router's version.</summary>
    public ClientConnection[] Route { get; set; } = s_noRoute;

    public int RouteCount { get; set; }

    /// <summary>The subscription version the route was computed at (-1: never).</summary>
    public long RouteVersion { get; set; } = -1;

    /// <summary>Publishers stalled on this channel, first come first served (created on the first stall).</summary>
    public List<ClientConnection>? Waiters { get; set; }

    /// <summary>Whether publishers are waiting (every new publish then queues behind them, keeping the order).</summary>
    public bool IsStalled => Waiters is { Count: > 0 };

    public override string ToString() => System.Text.Encoding.UTF8.GetString(Name);
}

/// <summary>
/// The channels by name: an open-addressing hash table (linear probing, power-of-two size, load at most
/// 3/4, backward-shift deletion) keyed by the UTF-8 bytes, so a lookup from a frame's channel span costs a
/// hash and a compare and allocates nothing. The hash is seeded per process, so clients cannot aim
/// collisions at it.
/// </summary>
internal sealed class ChannelTable
{
    private static readonly ulong s_seed = BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8));

    private Channel?[] _slots;
    private int _mask;

    public ChannelTable(int initialCapacity = 64)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, initialCapacity));
        _slots = new Channel?[size];
        _mask = size - 1;
    }

    /// <summary>The number of channels.</summary>
    public int Count { get; private set; }

    /// <summary>The slot array's size (tests).</summary>
    public int Capacity => _slots.Length;

    /// <summary>The channel named <paramref name="name"/>, or null.</summary>
    public Channel? Find(ReadOnlySpan<byte> name)
    {
        int hash = Hash(name);
        Channel?[] slots = _slots;
        for (int i = hash & _mask; ; i = (i + 1) & _mask)
        {
            Channel? c = slots[i];
            if (c is null)
            {
                return null;
            }
            if (c.Hash == hash && name.SequenceEqual(c.Name))
            {
                return c;
            }
        }
    }

    /// <summary>Adds a channel named <paramref name="name"/> (which must not be present yet) and returns it.</summary>
    public Channel Add(ReadOnlySpan<byte> name)
    {
        if ((Count + 1) * 4 > _slots.Length * 3)
        {
            Resize(_slots.Length * 2);
        }
        var channel = new Channel(name.ToArray(), Hash(name));
        Insert(_slots, _mask, channel);
        Count++;
        return channel;
    }

    /// <summary>Removes the channel named <paramref name="name"/>; false when there is none.</summary>
    public bool Remove(ReadOnlySpan<byte> name)
    {
        int hash = Hash(name);
        int i = hash & _mask;
        while (true)
        {
            Channel? c = _slots[i];
            if (c is null)
            {
                return false;
            }
            if (c.Hash == hash && name.SequenceEqual(c.Name))
            {
                break;
            }
            i = (i + 1) & _mask;
        }
        // Backward-shift deletion: move later members of the probe run into the hole, so lookups never
        // need tombstones.
        int hole = i;
        for (int j = (hole + 1) & _mask; _slots[j] is { } next; j = (j + 1) & _mask)
        {
            int home = next.Hash & _mask;
            // next may fill the hole if its home is not in (hole, j] cyclically.
            bool homeInRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeInRange)
            {
                _slots[hole] = next;
                hole = j;
            }
        }
        _slots[hole] = null;
        Count--;
        return true;
    }

    /// <summary>Every channel, in no particular order (not for the hot path).</summary>
    public IEnumerable<Channel> All()
    {
        foreach (Channel? c in _slots)
        {
            if (c is not null)
            {
                yield return c;
            }
        }
    }

    /// <summary>The seeded 32-bit hash of <paramref name="key"/>: 8 bytes per step, then a full avalanche.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Hash(ReadOnlySpan<byte> key)
    {
        const ulong k1 = 0x9E3779B97F4A7C15;
        const ulong k2 = 0xC2B2AE3D27D4EB4F;
        ulong h = s_seed ^ ((ulong)key.Length * k1);
        while (key.Length >= 8)
        {
            h = BitOperations.RotateLeft(h ^ (BinaryPrimitives.ReadUInt64LittleEndian(key) * k2), 29) * k1;
            key = key[8..];
        }
        ulong tail = 0;
        for (int i = 0; i < key.Length; i++)
        {
            tail |= (ulong)key[i] << (8 * i);
        }
        h = BitOperations.RotateLeft(h ^ (tail * k2), 29) * k1;
        // fmix64 (MurmurHash3).
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        h ^= h >> 33;
        return (int)h;
    }

    private void Resize(int size)
    {
        var slots = new Channel?[size];
        int mask = size - 1;
        foreach (Channel? c in _slots)
        {
            if (c is not null)
            {
                Insert(slots, mask, c);
            }
        }
        _slots = slots;
        _mask = mask;
    }

    private static void Insert(Channel?[] slots, int mask, Channel channel)
    {
        int i = channel.Hash & mask;
        while (slots[i] is not null)
        {
            i = (i + 1) & mask;
        }
        slots[i] = channel;
    }
}
