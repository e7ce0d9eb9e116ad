using System.Threading.Channels;
using IpcCore.Client;

namespace MyIpcFd;

/// <summary>
/// Receives the messages of one subscription one at a time, each wait bounded (a helper process that died
/// must not hang the demo). Disposing cancels a wait still in progress before ending the enumeration.
/// </summary>
internal sealed class MessageInbox : IAsyncDisposable
{
    private static readonly TimeSpan s_lateGrace = TimeSpan.FromSeconds(2);

    private readonly HubSubscription _subscription;
    private readonly CancellationTokenSource _stop;
    private readonly IAsyncEnumerator<HubMessage> _messages;
    private Task<bool>? _pending;

    public MessageInbox(HubSubscription subscription, CancellationToken cancellationToken)
    {
        _subscription = subscription;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _messages = subscription.GetAsyncEnumerator(_stop.Token);
    }

    /// <summary>
    /// The next message (the caller owns it: dispose it), or null when none came within <paramref name="timeout"/>
    /// or <paramref name="giveUp"/> completed first (e.g. the process that should send it has exited; a message it
    /// sent just before still counts).
    /// </summary>
    /// <exception cref="OperationCanceledException">The demo was stopped (SIGINT/SIGTERM).</exception>
    /// <exception cref="DemoFailedException">The subscription ended.</exception>
    public async Task<HubMessage?> ReceiveAsync(TimeSpan timeout, Task? giveUp = null)
    {
        _pending ??= _messages.MoveNextAsync().AsTask();
        using var delay = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        Task timer = Task.Delay(timeout, delay.Token);
        Task first = await Task.WhenAny(_pending, timer, giveUp ?? Task.Delay(Timeout.Infinite, delay.Token)).ConfigureAwait(false);
        await delay.CancelAsync().ConfigureAwait(false);
        _stop.Token.ThrowIfCancellationRequested();
        if (first != _pending)
        {
            if (first == timer)
            {
                return null;
            }
            // The sender is gone; what it sent before may still be on its way through the hub.
            if (await Task.WhenAny(_pending, Task.Delay(s_lateGrace, _stop.Token)).ConfigureAwait(false) != _pending)
            {
                return null;
            }
        }
        Task<bool> done = _pending;
        _pending = null;
        if (!await done.ConfigureAwait(false))
        {
            throw new DemoFailedException($"the subscription to '{_subscription.Pattern}' ended");
        }
        return _messages.Current;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_pending is not null)
        {
            try
            {
                await _pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or HubConnectionException or ChannelClosedException or ObjectDisposedException)
            {
                // The wait this inbox gave up on: its outcome no longer matters.
            }
        }
        await _messages.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
