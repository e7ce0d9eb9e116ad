using IpcCore.Protocol;

namespace IpcCore.Hub;

/// <summary>What <see cref="Router.Subscribe"/> did.</summary>
internal enum SubscribeResult
{
    Added,
    AlreadySubscribed,
    LimitReached,
}

/// <summary>
/// Channels, subscriptions and routes. A channel's route (the clients with at least one matching
/// pattern, each once) is computed on first use and cached on the channel together with the
/// subscription version it was computed at; any subscription change anywhere bumps the version, so a
/// stale route is recomputed on its channel's next publish. Between changes a publish costs a hash
/// lookup and a walk over the cached array: no matching, no allocation.
/// </summary>
internal sealed class Router
{
    private readonly List<ClientConnection> _subscribers = [];
    private readonly int _maxSubscriptionsPerClient;

    public Router(int maxChannels, int maxSubscriptionsPerClient)
    {
        MaxChannels = maxChannels;
        _maxSubscriptionsPerClient = maxSubscriptionsPerClient;
    }

    public ChannelTable Channels { get; } = new();

    public int MaxChannels { get; }

    /// <summary>Bumped by every subscription change; routes computed at an older version are stale.</summary>
    public long Version { get; private set; }

    /// <summary>How many routes were computed (tests: the cache works).</summary>
    public long RouteComputations { get; private set; }

    /// <summary>Clients holding at least one subscription.</summary>
    public int SubscriberCount => _subscribers.Count;

    /// <summary>The channel named <paramref name="name"/>, created when missing and the limit allows; null at the limit.</summary>
    public Channel? GetOrAddChannel(ReadOnlySpan<byte> name)
    {
        Channel? channel = Channels.Find(name);
        if (channel is null && Channels.Count < MaxChannels)
        {
            channel = Channels.Add(name);
        }
        return channel;
    }

    /// <summary>The subscribers of <paramref name="channel"/>, each once (recomputed when stale).</summary>
    public ReadOnlySpan<ClientConnection> GetRoute(Channel channel)
    {
        if (channel.RouteVersion != Version)
        {
            Compute(channel);
        }
        return channel.Route.AsSpan(0, channel.RouteCount);
    }

    /// <summary>Adds <paramref name="pattern"/> (a valid pattern) to <paramref name="client"/>'s subscriptions.</summary>
    public SubscribeResult Subscribe(ClientConnection client, ReadOnlySpan<byte> pattern)
    {
        if (IndexOf(client, pattern) >= 0)
        {
            return SubscribeResult.AlreadySubscribed;
        }
        if (client.Subscriptions.Count >= _maxSubscriptionsPerClient)
        {
            return SubscribeResult.LimitReached;
        }
        client.Subscriptions.Add(pattern.ToArray());
        if (client.SubscriberIndex < 0)
        {
            client.SubscriberIndex = _subscribers.Count;
            _subscribers.Add(client);
        }
        Version++;
        return SubscribeResult.Added;
    }

    /// <summary>Removes the subscription with exactly <paramref name="pattern"/>; false when the client does not hold it.</summary>
    public bool Unsubscribe(ClientConnection client, ReadOnlySpan<byte> pattern)
    {
        int index = IndexOf(client, pattern);
        if (index < 0)
        {
            return false;
        }
        client.Subscriptions.RemoveAt(index);
        if (client.Subscriptions.Count == 0)
        {
            RemoveSubscriber(client);
        }
        Version++;
        return true;
    }

    /// <summary>Drops every subscription of a departing client; true when it had any (routes changed).</summary>
    public bool RemoveClient(ClientConnection client)
    {
        if (client.SubscriberIndex < 0)
        {
            return false;
        }
        client.Subscriptions.Clear();
        RemoveSubscriber(client);
        Version++;
        return true;
    }

    private static int IndexOf(ClientConnection client, ReadOnlySpan<byte> pattern)
    {
        List<byte[]> subscriptions = client.Subscriptions;
        for (int i = 0; i < subscriptions.Count; i++)
        {
            if (pattern.SequenceEqual(subscriptions[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private void RemoveSubscriber(ClientConnection client)
    {
        int index = client.SubscriberIndex;
        int last = _subscribers.Count - 1;
        if (index != last)
        {
            ClientConnection moved = _subscribers[last];
            _subscribers[index] = moved;
            moved.SubscriberIndex = index;
        }
        _subscribers.RemoveAt(last);
        client.SubscriberIndex = -1;
    }

    private void Compute(Channel channel)
    {
        RouteComputations++;
        ClientConnection[] route = channel.Route;
        int count = 0;
        ReadOnlySpan<byte> name = channel.Name;
        foreach (ClientConnection client in _subscribers)
        {
            if (client.Closing)
            {
                continue;
            }
            foreach (byte[] pattern in client.Subscriptions)
            {
                if (ChannelName.Matches(pattern, name))
                {
                    if (count == route.Length)
                    {
                        Array.Resize(ref route, Math.Max(4, route.Length * 2));
                    }
                    route[count++] = client;
                    break; // once per client, however many of its patterns match
                }
            }
        }
        // Clear the tail so departed clients are not kept alive by a shrunken route.
        Array.Clear(route, count, route.Length - count);
        channel.Route = route;
        channel.RouteCount = count;
        channel.RouteVersion = Version;
    }
}
