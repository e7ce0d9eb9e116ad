using System.Threading.Channels;

namespace IpcCore.Client;

/// <summary>
/// One local subscription to a pattern. Messages come either to its <see cref="HubMessageHandler"/> (on the
/// receive thread, without allocating) or, when it was made without one, through <c>await foreach</c>
/// (each message copied into a <see cref="HubMessage"/>, buffered without bound until read). Several local
/// subscriptions may share a pattern; the hub holds it once and each of them gets every matching message.
/// Survives reconnects: the client subscribes again after a reconnect.
/// </summary>
public sealed class HubSubscription : IAsyncEnumerable<HubMessage>, IAsyncDisposable
{
    private readonly HubClient _client;
    private readonly HubMessageHandler? _handler;
    private readonly HubDescriptorMessageHandler? _descriptorHandler;
    private readonly Channel<HubMessage>? _messages;
    private long _missed;
    private long _received;
    private int _enumerated;

    internal HubSubscription(HubClient client, string pattern, byte[] patternBytes, HubMessageHandler? handler,
        HubDescriptorMessageHandler? descriptorHandler = null)
    {
        _client = client;
        Pattern = pattern;
        PatternBytes = patternBytes;
        _handler = handler;
        _descriptorHandler = descriptorHandler;
        if (handler is null && descriptorHandler is null)
        {
            _messages = Channel.CreateUnbounded<HubMessage>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
        }
    }

    /// <summary>The pattern, exactly as subscribed.</summary>
    public string Pattern { get; }

    /// <summary>Messages this subscription did not get: the sum of the gaps seen in matching channels' sequence numbers.</summary>
    public long MissedMessages => Interlocked.Read(ref _missed);

    /// <summary>Messages delivered to this subscription so far.</summary>
    public long ReceivedMessages => Interlocked.Read(ref _received);

    /// <summary>Whether the subscription still receives (not unsubscribed, client not closed).</summary>
    public bool IsActive { get; private set; } = true;

    internal byte[] PatternBytes { get; }

    /// <summary>Drops the subscription; the hub is told when no other local subscription has the same pattern.</summary>
    public ValueTask UnsubscribeAsync(CancellationToken cancellationToken = default) => _client.UnsubscribeAsync(this, cancellationToken);

    /// <summary>Same as <see cref="UnsubscribeAsync"/>, but never throws for a closed or lost connection.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (HubConnectionException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// The messages, in arrival order, until the subscription is dropped (the loop ends) or the client closes
    /// after losing the connection (the loop throws <see cref="HubConnectionException"/>). One reader only.
    /// </summary>
    /// <exception cref="InvalidOperationException">The subscription has a handler, or is already being enumerated.</exception>
    public IAsyncEnumerator<HubMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (_messages is null)
        {
            throw new InvalidOperationException($"the subscription to '{Pattern}' delivers to its handler; it cannot be enumerated");
        }
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException($"the subscription to '{Pattern}' is already being enumerated");
        }
        return _messages.Reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    public override string ToString() => $"subscription to '{Pattern}'";

    /// <summary>Receive thread: one matching message.</summary>
    internal void Deliver(string channel, ReadOnlySpan<byte> channelBytes, ulong sequence, ReadOnlySpan<byte> payload)
    {
        if (!IsActive)
        {
            return;
        }
        Interlocked.Increment(ref _received);
        if (_handler is not null)
        {
            _handler(channelBytes, sequence, payload);
        }
        else if (_descriptorHandler is not null)
        {
            _descriptorHandler(channelBytes, sequence, payload, default);
        }
        else
        {
            _messages!.Writer.TryWrite(new HubMessage(channel, sequence, payload.ToArray()));
        }
    }

    /// <summary>
    /// Receive thread: one matching message that carried descriptors; this subscription owns
    /// <paramref name="descriptors"/>. A <see cref="HubDescriptorMessageHandler"/> gets them (and may take them), an
    /// enumeration gets them in <see cref="HubMessage.Descriptors"/>; a plain <see cref="HubMessageHandler"/> does
    /// not see them, and they are closed once it returns.
    /// </summary>
    internal void Deliver(string channel, ReadOnlySpan<byte> channelBytes, ulong sequence, ReadOnlySpan<byte> payload,
        SafeFdHandle[] descriptors, HubException? descriptorError)
    {
        var message = new HubMessage(channel, sequence, ReadOnlyMemory<byte>.Empty)
        {
            Descriptors = descriptors,
            DescriptorError = descriptorError,
        };
        try
        {
            if (!IsActive)
            {
                return;
            }
            Interlocked.Increment(ref _received);
            if (_handler is not null)
            {
                _handler(channelBytes, sequence, payload);
                return;
            }
            if (_descriptorHandler is not null)
            {
                var handoff = new ReceivedDescriptors.Handoff(descriptors, descriptorError);
                message = null; // the handoff owns the descriptors now
                try
                {
                    _descriptorHandler(channelBytes, sequence, payload, new ReceivedDescriptors(handoff));
                }
                finally
                {
                    handoff.DisposeRest();
                }
                return;
            }
            if (_messages!.Writer.TryWrite(message with { Payload = payload.ToArray() }))
            {
                message = null;
            }
        }
        finally
        {
            message?.Dispose();
        }
    }

    internal void AddMissed(long count) => Interlocked.Add(ref _missed, count);

    /// <summary>Stops delivery; the enumeration ends, with <paramref name="error"/> if given.</summary>
    internal void Complete(Exception? error)
    {
        IsActive = false;
        _messages?.Writer.TryComplete(error);
    }
}
