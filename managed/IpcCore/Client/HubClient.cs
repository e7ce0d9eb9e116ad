using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Protocol;
using IpcCore.Rings;
using Microsoft.Extensions.Logging;
using Stopwatch = System.Diagnostics.Stopwatch;
using Microsoft.Extensions.Logging.Abstractions;

namespace IpcCore.Client;

/// <summary>
/// A connection to the hub (docs/PROTOCOL.md): publish, subscribe, receive. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// One receive thread per connection reads frames into a reusable buffer, completes the request each
/// Ack/Error names, and hands every Data frame to each local subscription whose pattern matches. Sends use
/// group commit: a caller encodes its frame into the shared send buffer under a lock; the caller that finds
/// no flush in progress writes the buffer (everything appended meanwhile goes out in the same write).
/// </para>
/// <para>
/// When the connection is lost (the hub closed it, said Goodbye, or sent a fatal Error) and
/// <see cref="HubClientOptions.Reconnect"/> is on, the client connects again for up to
/// <see cref="HubClientOptions.ReconnectTimeout"/>, redoes Hello, subscribes again to every pattern, and goes
/// on. Requests the old hub had not answered fail with <see cref="HubConnectionException"/> (a publish is
/// never sent twice: the hub may have routed it); requests made while reconnecting wait and go to the new hub.
/// </para>
/// </remarks>
public sealed class HubClient : IAsyncDisposable, IDisposable
{
    private const int InitialBufferSize = 64 * 1024;

    // A send within this long of the previous write's end is left to a background flush, which coalesces a
    // burst into few large writes (one system call per message caps a socket near the raw mechanism's rate,
    // and the hub then has two hops of it); a send after a pause is written at once, for latency.
    private static readonly long s_burstWindowTicks = Stopwatch.Frequency / 100_000; // 10 µs

    // How long a background flush that found nothing waits for more before it gives its thread back.
    private static readonly long s_lingerTicks = Stopwatch.Frequency / 50_000; // 20 µs
    private static readonly TimeSpan s_disposeDrain = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_receiveThreadJoin = TimeSpan.FromSeconds(5);
    private static readonly Action<object?> s_cancelRequest = static state => ((CancelState)state!).Cancel();

    private readonly HubClientOptions _options;
    private readonly IClientTransport _transport;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly RequestPool _requests = new();
    private readonly Dictionary<ulong, PendingEntry> _pending = [];
    private readonly Dictionary<string, PatternEntry> _patterns = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _receiveThread;
    private readonly FlushWorkItem _flushWorkItem;
    private readonly ChannelCache _channels = new();

    // Under _gate.
    private IClientDataPath? _path;
    private long _epoch;
    private HubConnectionState _state = HubConnectionState.Connected;
    private HubConnectionException? _closedError;
    private bool _disposed;
    private byte[] _sendBuffer = new byte[InitialBufferSize];
    private int _sendLength;
    private byte[] _spareBuffer = new byte[InitialBufferSize];
    private List<DescriptorMark> _sendMarks = []; // frames in _sendBuffer that carry descriptors, in order
    private List<DescriptorMark> _spareMarks = [];
    private bool _flushing;
    private long _lastWriteTicks; // when the last write of the send buffer ended (Stopwatch ticks)
    private Exception? _sendError;
    private HubSubscription[] _subscriptions = [];

    // Lock-free.
    private volatile ConnectionFacts _facts;
    private long _nextRequestId;
    private int _subscriptionsVersion;
    private int _sequenceResetVersion;

    // Receive thread only.
    private byte[] _receiveBuffer = new byte[InitialBufferSize];
    private int _receiveStart;
    private int _receiveEnd;
    private int _resubscribeOutstanding;
    private int _resubscribeTotal;

    private HubClient(HubClientOptions options, IClientTransport transport, string socketPath, EstablishedConnection connection)
    {
        _options = options;
        _transport = transport;
        _logger = options.Logger ?? NullLogger.Instance;
        SocketPath = socketPath;
        _path = connection.Path;
        _path.SpinNs = options.SpinWait.Ticks * 100;
        _facts = new ConnectionFacts(connection.Welcome);
        TakeLeftover(connection.Leftover);
        _flushWorkItem = new FlushWorkItem(this);
        _receiveThread = new Thread(ReceiveMain)
        {
            IsBackground = true,
            Name = string.Create(CultureInfo.InvariantCulture, $"IpcCore hub client {connection.Welcome.ClientId}"),
        };
    }

    /// <summary>The state changed: <see cref="HubConnectionState.Reconnecting"/>, <see cref="HubConnectionState.Reconnected"/> or <see cref="HubConnectionState.Closed"/>. Raised on the receive thread (Closed also on the disposing thread).</summary>
    public event EventHandler<HubConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>A gap in a channel's sequence numbers, raised on the receive thread before the message after the gap is delivered.</summary>
    public event EventHandler<HubMessagesMissedEventArgs>? MessagesMissed;

    /// <summary>An error nobody awaits (a refused fire-and-forget publish, a failed resubscribe, a handler that threw).</summary>
    public event EventHandler<HubErrorEventArgs>? ErrorReceived;

    /// <summary>The transport the hub granted.</summary>
    public TransportKind Transport => _facts.Transport;

    /// <summary>The hub's maximum message size in bytes (from Welcome); larger publishes are refused before sending.</summary>
    public int MaxMessageSize => _facts.MaxMessageSize;

    /// <summary>The id the hub gave this connection (a new one after a reconnect).</summary>
    public ulong ClientId => _facts.ClientId;

    /// <summary>The hub's process id.</summary>
    public int HubPid => _facts.HubPid;

    /// <summary>
    /// The most descriptors one message may carry on this connection (the hub's <c>--max-fds-per-message</c>), or
    /// 0 when the transport cannot carry descriptors (only socket and pipe can).
    /// </summary>
    public int MaxDescriptorsPerMessage => _facts.MaxDescriptorsPerMessage;

    /// <summary>The hub's control socket.</summary>
    public string SocketPath { get; }

    /// <summary>The name this client gave in Hello.</summary>
    public string ClientName => _options.ClientName;

    /// <summary><see cref="HubConnectionState.Connected"/>, <see cref="HubConnectionState.Reconnecting"/> or <see cref="HubConnectionState.Closed"/>.</summary>
    public HubConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Whether this build has a client for <paramref name="kind"/>.</summary>
    public static bool IsTransportAvailable(TransportKind kind) => ClientTransports.Find(kind) is not null;

    /// <summary>
    /// Connects to the hub and completes Hello/Welcome. Waits up to <see cref="HubClientOptions.ConnectTimeout"/>
    /// for a hub that is not up yet.
    /// </summary>
    /// <exception cref="HubConnectionException">No hub answered in time, or the socket cannot be used.</exception>
    /// <exception cref="HubException">The hub refused the client (e.g. TooManyClients).</exception>
    /// <exception cref="NotSupportedException">The transport is not available in this build.</exception>
    public static async Task<HubClient> ConnectAsync(HubClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = (options ?? new HubClientOptions()).Clone();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ConnectTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReconnectTimeout, TimeSpan.Zero, nameof(options));
        ArgumentNullException.ThrowIfNull(options.ClientName, nameof(options));
        if (ClientNames.Explain(options.ClientName) is { } why)
        {
            throw new ArgumentException(why, nameof(options));
        }
        IClientTransport transport = ClientTransports.Find(options.Transport)
            ?? throw new NotSupportedException($"the {options.Transport} transport is not available yet");
        string socketPath = HubPaths.SocketPath(HubPaths.ResolveDirectory(options.Directory));

        EstablishedConnection connection = await HubConnector.ConnectAsync(socketPath, transport, options.ClientName,
            options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        var client = new HubClient(options, transport, socketPath, connection);
        ClientLog.Connected(client._logger, socketPath, client.ClientId, client.HubPid, client.Transport, client.MaxMessageSize);
        client._receiveThread.Start();
        return client;
    }

    // --- publishing --------------------------------------------------------------------------

    /// <summary>
    /// Publishes <paramref name="payload"/> to <paramref name="channel"/> and completes with the hub's Ack. Many
    /// may be in flight at once. Allocates nothing when the token cannot be cancelled. The token only stops
    /// the wait: a message handed to the connection may still be routed.
    /// </summary>
    /// <exception cref="ArgumentException">The channel name is invalid (the message says why).</exception>
    /// <exception cref="HubException">Larger than <see cref="MaxMessageSize"/> (thrown before sending), or refused by the hub (from the task).</exception>
    /// <exception cref="HubConnectionException">The client is closed, or the connection was lost before the Ack (from the task).</exception>
    public ValueTask<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
        => PublishAsync(channel, payload, priority: 0, cancellationToken);

    /// <summary>
    /// Publishes with a priority (0..<see cref="FrameHeader.MaxPriority"/>). Over the message-queue transport it is
    /// the mq priority in both directions, so the message may overtake lower-priority ones still queued (to the
    /// hub, and from the hub to message-queue subscribers); elsewhere it is carried along and changes no order.
    /// </summary>
    /// <inheritdoc cref="PublishAsync(string, ReadOnlyMemory{byte}, CancellationToken)"/>
    public ValueTask<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> payload, ushort priority, CancellationToken cancellationToken = default)
    {
        CheckPriority(priority);
        Span<byte> name = stackalloc byte[FrameHeader.MaxChannelLength];
        name = name[..EncodeChannel(channel, name, pattern: false, nameof(channel))];
        CheckPayloadSize(channel, payload.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<PublishResult>(cancellationToken);
        }

        ulong id = NextRequestId();
        PendingRequest request = Rent(id, cancellationToken);
        ValueTask<PublishResult> task = request.Task;
        bool flush;
        try
        {
            lock (_gate)
            {
                Span<byte> frame = ReserveLocked(FrameWriter.FrameLength(name.Length, payload.Length));
                FrameWriter.Write(frame, FrameType.Publish, FrameFlags.None, id, name, payload.Span, priority);
                _pending.Add(id, new PendingEntry(request, RequestKind.Publish, _epoch, channel));
                flush = BeginFlushLocked();
            }
        }
        catch
        {
            request.Abandon();
            throw;
        }
        if (flush)
        {
            FlushLoop();
        }
        return task;
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> with open descriptors attached (files, memfds, sockets, pipe ends: SCM_RIGHTS),
    /// and completes with the hub's Ack. Each subscriber whose transport can carry descriptors (socket, pipe) gets
    /// its own descriptors of the same open files; the others do not get the message, and
    /// <see cref="PublishResult.CannotCarryDescriptors"/> counts them. The caller keeps its handles (and must dispose
    /// them); the client holds a reference on each until they are sent, so disposing one early is safe.
    /// </summary>
    /// <param name="descriptors">1 to <see cref="MaxDescriptorsPerMessage"/> open handles (none: a plain publish).</param>
    /// <exception cref="NotSupportedException">This client's transport cannot carry descriptors.</exception>
    /// <exception cref="HubException">More descriptors than the hub allows per message (TooManyDescriptors, thrown before sending), or refused by the hub (from the task).</exception>
    /// <inheritdoc cref="PublishAsync(string, ReadOnlyMemory{byte}, CancellationToken)"/>
    public ValueTask<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> payload, IReadOnlyList<SafeHandle> descriptors,
        CancellationToken cancellationToken = default)
        => PublishAsync(channel, payload, descriptors, priority: 0, cancellationToken);

    /// <summary>Publishes with descriptors and a priority.</summary>
    /// <inheritdoc cref="PublishAsync(string, ReadOnlyMemory{byte}, IReadOnlyList{SafeHandle}, CancellationToken)"/>
    public ValueTask<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> payload, IReadOnlyList<SafeHandle> descriptors,
        ushort priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        if (descriptors.Count == 0)
        {
            return PublishAsync(channel, payload, priority, cancellationToken);
        }
        CheckPriority(priority);
        Span<byte> name = stackalloc byte[FrameHeader.MaxChannelLength];
        name = name[..EncodeChannel(channel, name, pattern: false, nameof(channel))];
        CheckPayloadSize(channel, payload.Length);
        CheckDescriptors(channel, descriptors);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<PublishResult>(cancellationToken);
        }

        SafeHandle[] held = HoldAll(descriptors);
        ulong id = NextRequestId();
        PendingRequest request;
        try
        {
            request = Rent(id, cancellationToken);
        }
        catch
        {
            ReleaseAll(held);
            throw;
        }
        ValueTask<PublishResult> task = request.Task;
        bool flush;
        try
        {
            lock (_gate)
            {
                int length = FrameWriter.FrameLength(name.Length, payload.Length);
                Span<byte> frame = ReserveLocked(length);
                FrameWriter.Write(frame, FrameType.Publish, FrameHeader.WithDescriptors(FrameFlags.None, held.Length), id, name, payload.Span, priority);
                _sendMarks.Add(new DescriptorMark(_sendLength - length, held));
                held = [];
                _pending.Add(id, new PendingEntry(request, RequestKind.Publish, _epoch, channel));
                flush = BeginFlushLocked();
            }
        }
        catch
        {
            ReleaseAll(held);
            request.Abandon();
            throw;
        }
        if (flush)
        {
            FlushLoop();
        }
        return task;
    }

    /// <summary>
    /// Publishes without an Ack (fire and forget): returns once the message is handed to the connection.
    /// Allocates nothing. Refusals by the hub are reported through <see cref="ErrorReceived"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The channel name is invalid.</exception>
    /// <exception cref="HubException">Larger than <see cref="MaxMessageSize"/>.</exception>
    /// <exception cref="HubConnectionException">The client is closed.</exception>
    public void PublishAndForget(string channel, ReadOnlySpan<byte> payload) => PublishAndForget(channel, payload, priority: 0);

    /// <summary>Publishes without an Ack, with a priority (see <see cref="PublishAsync(string, ReadOnlyMemory{byte}, ushort, CancellationToken)"/>).</summary>
    /// <inheritdoc cref="PublishAndForget(string, ReadOnlySpan{byte})"/>
    public void PublishAndForget(string channel, ReadOnlySpan<byte> payload, ushort priority)
    {
        CheckPriority(priority);
        Span<byte> name = stackalloc byte[FrameHeader.MaxChannelLength];
        name = name[..EncodeChannel(channel, name, pattern: false, nameof(channel))];
        CheckPayloadSize(channel, payload.Length);
        ulong id = NextRequestId();
        int length = FrameWriter.FrameLength(name.Length, payload.Length);
        bool flush;
        lock (_gate)
        {
            // Nothing buffered or being written: the frame may go straight into the path (the shm ring), one copy
            // fewer. Otherwise it queues behind what is there.
            if (_sendLength == 0 && !_flushing && _path is { } path && !_disposed && _state != HubConnectionState.Closed
                && path.TryBeginDirectWrite(length, out Span<byte> direct))
            {
                try
                {
                    FrameWriter.Write(direct, FrameType.Publish, FrameFlags.NoAck, id, name, payload, priority);
                }
                finally
                {
                    path.EndDirectWrite();
                }
                return;
            }
            Span<byte> frame = ReserveLocked(length);
            FrameWriter.Write(frame, FrameType.Publish, FrameFlags.NoAck, id, name, payload, priority);
            flush = BeginFlushLocked();
        }
        if (flush)
        {
            FlushLoop();
        }
    }

    /// <summary>
    /// Completes when the hub has handled everything this client sent before (a Ping/Pong round trip; the hub
    /// handles a client's frames in order). Use it after fire-and-forget publishes, before disposing.
    /// </summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await SendRequestAsync(RequestKind.Flush, FrameType.Ping, default, null, cancellationToken).ConfigureAwait(false);
    }

    // --- subscribing -------------------------------------------------------------------------

    /// <summary>Subscribes to <paramref name="pattern"/>; enumerate the result with <c>await foreach</c>. Completes when the hub acked.</summary>
    /// <exception cref="ArgumentException">The pattern is invalid.</exception>
    /// <exception cref="HubException">The hub refused (e.g. TooManySubscriptions).</exception>
    public Task<HubSubscription> SubscribeAsync(string pattern, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(pattern, null, null, cancellationToken);

    /// <summary>
    /// Subscribes to <paramref name="pattern"/> with a callback that runs on the receive thread and allocates
    /// nothing per message. Completes when the hub acked.
    /// </summary>
    public Task<HubSubscription> SubscribeAsync(string pattern, HubMessageHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCoreAsync(pattern, handler, null, cancellationToken);
    }

    /// <summary>
    /// Subscribes with a callback that also gets the descriptors messages carry (see
    /// <see cref="HubDescriptorMessageHandler"/>); allocates nothing per message without descriptors.
    /// </summary>
    public Task<HubSubscription> SubscribeAsync(string pattern, HubDescriptorMessageHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCoreAsync(pattern, null, handler, cancellationToken);
    }

    /// <summary>Like <see cref="SubscribeAsync(string, HubMessageHandler, CancellationToken)"/>, blocking until the hub acked.</summary>
    /// <exception cref="InvalidOperationException">Called from a message handler (it would wait for itself).</exception>
    public HubSubscription Subscribe(string pattern, HubMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Thread.CurrentThread == _receiveThread)
        {
            throw new InvalidOperationException("Subscribe waits for the hub's answer, which the receive thread reads: use SubscribeAsync in a message handler");
        }
        return SubscribeCoreAsync(pattern, handler, null, CancellationToken.None).GetAwaiter().GetResult();
    }

    private async Task<HubSubscription> SubscribeCoreAsync(string pattern, HubMessageHandler? handler, HubDescriptorMessageHandler? descriptorHandler,
        CancellationToken cancellationToken)
    {
        byte[] bytes = EncodePattern(pattern);
        cancellationToken.ThrowIfCancellationRequested();
        var subscription = new HubSubscription(this, pattern, bytes, handler, descriptorHandler);
        ulong id = NextRequestId();
        PendingRequest request = Rent(id, cancellationToken);
        ValueTask<PublishResult> task = request.Task;
        bool flush;
        try
        {
            lock (_gate)
            {
                Span<byte> frame = ReserveLocked(FrameWriter.FrameLength(bytes.Length, 0));
                FrameWriter.Write(frame, FrameType.Subscribe, FrameFlags.None, id, bytes, default);
                _pending.Add(id, new PendingEntry(request, RequestKind.Subscribe, _epoch, pattern));
                if (_patterns.TryGetValue(pattern, out PatternEntry? entry))
                {
                    entry.Count++;
                }
                else
                {
                    _patterns.Add(pattern, new PatternEntry(bytes));
                }
                _subscriptions = [.. _subscriptions, subscription];
                Interlocked.Increment(ref _subscriptionsVersion);
                flush = BeginFlushLocked();
            }
        }
        catch
        {
            request.Abandon();
            throw;
        }
        if (flush)
        {
            FlushLoop();
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The hub may have subscribed already: drop it the normal way.
            _ = UnsubscribeAsync(subscription, CancellationToken.None).AsTask();
            throw;
        }
        catch (Exception)
        {
            lock (_gate)
            {
                RemoveLocked(subscription);
            }
            subscription.Complete(null);
            throw;
        }
        return subscription;
    }

    internal async ValueTask UnsubscribeAsync(HubSubscription subscription, CancellationToken cancellationToken)
    {
        PendingRequest? request = null;
        ValueTask<PublishResult> task = default;
        bool flush = false;
        lock (_gate)
        {
            if (!subscription.IsActive || !_subscriptions.Contains(subscription))
            {
                subscription.Complete(null);
                return;
            }
            bool last = RemoveLocked(subscription);
            if (last && _state != HubConnectionState.Closed && !_disposed)
            {
                ulong id = NextRequestId();
                request = Rent(id, cancellationToken);
                task = request.Task;
                Span<byte> frame = AppendLocked(FrameWriter.FrameLength(subscription.PatternBytes.Length, 0));
                FrameWriter.Write(frame, FrameType.Unsubscribe, FrameFlags.None, id, subscription.PatternBytes, default);
                _pending.Add(id, new PendingEntry(request, RequestKind.Unsubscribe, _epoch, subscription.Pattern));
                flush = BeginFlushLocked();
            }
        }
        subscription.Complete(null);
        if (request is null)
        {
            return;
        }
        if (flush)
        {
            FlushLoop();
        }
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (HubException e) when (e.Code == ProtocolErrorCode.NotSubscribed)
        {
            // The hub did not hold it (e.g. a resubscribe after a reconnect had failed): the goal is met.
        }
        catch (HubConnectionException)
        {
            // A lost connection holds no subscriptions.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Removes a subscription locally; true when it was the last one with its pattern.</summary>
    private bool RemoveLocked(HubSubscription subscription)
    {
        int index = Array.IndexOf(_subscriptions, subscription);
        if (index < 0)
        {
            return false;
        }
        _subscriptions = [.. _subscriptions.AsSpan(0, index), .. _subscriptions.AsSpan(index + 1)];
        Interlocked.Increment(ref _subscriptionsVersion);
        if (_patterns.TryGetValue(subscription.Pattern, out PatternEntry? entry) && --entry.Count == 0)
        {
            _patterns.Remove(subscription.Pattern);
            // A channel that stops being received must not report a gap when it is received again.
            Interlocked.Increment(ref _sequenceResetVersion);
            return true;
        }
        return false;
    }

    // --- requests and the send buffer --------------------------------------------------------

    private async ValueTask<PublishResult> SendRequestAsync(RequestKind kind, FrameType type, ReadOnlyMemory<byte> channel,
        string? what, CancellationToken cancellationToken)
    {
        ulong id = NextRequestId();
        PendingRequest request = Rent(id, cancellationToken);
        ValueTask<PublishResult> task = request.Task;
        bool flush;
        try
        {
            lock (_gate)
            {
                Span<byte> frame = ReserveLocked(FrameWriter.FrameLength(channel.Length, 0));
                FrameWriter.Write(frame, type, FrameFlags.None, id, channel.Span, default);
                _pending.Add(id, new PendingEntry(request, kind, _epoch, what));
                flush = BeginFlushLocked();
            }
        }
        catch
        {
            request.Abandon();
            throw;
        }
        if (flush)
        {
            FlushLoop();
        }
        return await task.ConfigureAwait(false);
    }

    private ulong NextRequestId() => (ulong)Interlocked.Increment(ref _nextRequestId);

    private PendingRequest Rent(ulong id, CancellationToken cancellationToken)
    {
        PendingRequest request = _requests.Rent();
        if (cancellationToken.CanBeCanceled)
        {
            request.SetRegistration(cancellationToken.UnsafeRegister(s_cancelRequest, new CancelState(this, id, request, cancellationToken)));
        }
        return request;
    }

    private void CancelRequest(ulong id, PendingRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(id, out PendingEntry entry) || entry.Source != request)
            {
                return;
            }
            _pending.Remove(id);
        }
        request.SetException(new OperationCanceledException(cancellationToken));
    }

    /// <summary>
    /// Room for a frame at the end of the send buffer. A full buffer is not grown but waited on (a flush is
    /// under way or scheduled whenever it holds anything): a burst coalesces into writes of the buffer's size,
    /// and the steady state allocates nothing. Only a frame larger than an empty buffer grows it.
    /// </summary>
    private Span<byte> ReserveLocked(int length)
    {
        while (true)
        {
            ThrowIfUnusableLocked();
            if (_sendLength == 0 || _sendLength + length <= _sendBuffer.Length)
            {
                return AppendLocked(length);
            }
            Monitor.Wait(_gate);
        }
    }

    private Span<byte> AppendLocked(int length)
    {
        if (_sendBuffer.Length - _sendLength < length)
        {
            byte[] bigger = new byte[Math.Max(_sendBuffer.Length * 2, _sendLength + length)];
            _sendBuffer.AsSpan(0, _sendLength).CopyTo(bigger);
            _sendBuffer = bigger;
        }
        Span<byte> span = _sendBuffer.AsSpan(_sendLength, length);
        _sendLength += length;
        return span;
    }

    private void ThrowIfUnusableLocked()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_state == HubConnectionState.Closed)
        {
            HubConnectionException closed = _closedError ?? new HubConnectionException("the client is closed");
            throw new HubConnectionException(closed.Message, closed.InnerException);
        }
    }

    /// <summary>
    /// After appending a frame: true when the caller should write the buffer itself (nobody is writing and the
    /// last write ended a while ago); in a burst on a path where writes are system calls it schedules a
    /// background flush instead, so later frames join the same write.
    /// </summary>
    private bool BeginFlushLocked()
    {
        if (_flushing || _path is null || _sendLength == 0)
        {
            return false;
        }
        if (_path.CoalescesWrites && Stopwatch.GetTimestamp() - _lastWriteTicks < s_burstWindowTicks)
        {
            _flushing = true;
            ThreadPool.UnsafeQueueUserWorkItem(_flushWorkItem, preferLocal: false);
            return false;
        }
        _flushing = true;
        return true;
    }

    private bool TryBeginFlushLocked()
    {
        if (_flushing || _path is null || _sendLength == 0)
        {
            return false;
        }
        _flushing = true;
        return true;
    }

    /// <summary>
    /// Writes the send buffer until it stays empty. Only the caller that set <see cref="_flushing"/> runs it; a
    /// background flush (<paramref name="linger"/>) first waits a little for more, so a burst keeps one writer.
    /// </summary>
    private void FlushLoop(bool linger = false)
    {
        while (true)
        {
            byte[] buffer;
            int length;
            IClientDataPath path;
            List<DescriptorMark> marks;
            if (linger && Volatile.Read(ref _sendLength) == 0)
            {
                LingerForFrames();
            }
            lock (_gate)
            {
                if (_sendLength == 0 || _path is null)
                {
                    _flushing = false;
                    Monitor.PulseAll(_gate);
                    return;
                }
                buffer = _sendBuffer;
                length = _sendLength;
                path = _path;
                marks = _sendMarks;
                _sendBuffer = _spareBuffer;
                _sendLength = 0;
                _sendMarks = _spareMarks;
                Monitor.PulseAll(_gate); // writers waiting for room
            }

            Exception? failure = null;
            try
            {
                if (marks.Count == 0)
                {
                    path.SendAll(buffer.AsSpan(0, length));
                }
                else
                {
                    SendWithMarks(path, buffer.AsSpan(0, length), marks);
                }
            }
            catch (IpcException ex)
            {
                failure = ex;
            }
            catch (ObjectDisposedException ex)
            {
                failure = ex;
            }
            finally
            {
                ReleaseMarks(marks);
            }

            lock (_gate)
            {
                _spareBuffer = buffer;
                _spareMarks = marks;
                _lastWriteTicks = Stopwatch.GetTimestamp();
                if (failure is not null)
                {
                    if (ReferenceEquals(path, _path))
                    {
                        _sendError ??= failure;
                    }
                    _flushing = false;
                    Monitor.PulseAll(_gate);
                }
            }
            if (failure is not null)
            {
                path.Shutdown(); // the receive thread sees the end and handles the loss
                return;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="frames"/> cut at every frame that carries descriptors, so that each batch leaves with
    /// its frame's first byte (one batch per sendmsg, in order: the hub pairs them with the frames that way).
    /// </summary>
    private static void SendWithMarks(IClientDataPath path, ReadOnlySpan<byte> frames, List<DescriptorMark> marks)
    {
        int position = 0;
        for (int i = 0; i < marks.Count; i++)
        {
            DescriptorMark mark = marks[i];
            if (mark.Offset > position)
            {
                path.SendAll(frames[position..mark.Offset]);
            }
            int end = i + 1 < marks.Count ? marks[i + 1].Offset : frames.Length;
            path.SendAllWithDescriptors(frames[mark.Offset..end], mark.Handles);
            position = end;
        }
        if (position < frames.Length)
        {
            path.SendAll(frames[position..]);
        }
    }

    /// <summary>Lets go of the references held on the handles of sent (or abandoned) frames.</summary>
    private static void ReleaseMarks(List<DescriptorMark> marks)
    {
        foreach (DescriptorMark mark in marks)
        {
            ReleaseAll(mark.Handles);
        }
        marks.Clear();
    }

    /// <summary>
    /// Takes a reference on each handle (so none can be closed, and its number reused, before it is sent); on
    /// failure releases those already taken.
    /// </summary>
    private static SafeHandle[] HoldAll(IReadOnlyList<SafeHandle> descriptors)
    {
        var held = new SafeHandle[descriptors.Count];
        int count = 0;
        try
        {
            for (; count < held.Length; count++)
            {
                bool added = false;
                descriptors[count].DangerousAddRef(ref added);
                held[count] = descriptors[count];
            }
            return held;
        }
        catch
        {
            ReleaseAll(held.AsSpan(0, count));
            throw;
        }
    }

    private static void ReleaseAll(ReadOnlySpan<SafeHandle> held)
    {
        foreach (SafeHandle handle in held)
        {
            handle?.DangerousRelease();
        }
    }

    /// <summary>A frame in the send buffer with descriptors: where it starts, and the handles (referenced until sent).</summary>
    private readonly record struct DescriptorMark(int Offset, SafeHandle[] Handles);

    /// <summary>Spins (bounded, yielding now and then) until a frame is appended or the linger time is over.</summary>
    private void LingerForFrames()
    {
        long end = Stopwatch.GetTimestamp() + s_lingerTicks;
        for (int i = 0; Volatile.Read(ref _sendLength) == 0 && Stopwatch.GetTimestamp() < end; i++)
        {
            RingSpin.Once(i);
        }
    }

    private void ScheduleFlushLocked()
    {
        if (TryBeginFlushLocked())
        {
            ThreadPool.UnsafeQueueUserWorkItem(_flushWorkItem, preferLocal: false);
        }
    }

    // --- the receive thread ------------------------------------------------------------------

    private void ReceiveMain()
    {
        try
        {
            while (true)
            {
                IClientDataPath? path;
                lock (_gate)
                {
                    path = _path;
                }
                if (path is null)
                {
                    return; // closed
                }
                if (!Recover(RunConnection(path)))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ClientLog.ReceiveThreadFailed(_logger, ex);
            Close(new HubConnectionException($"connection to the hub lost: the client failed: {ex.Message}", ex));
        }
    }

    /// <summary>Reads and handles frames until the connection ends; returns why it ended.</summary>
    private Exception RunConnection(IClientDataPath path)
    {
        var limits = new ProtocolLimits(Math.Max(_facts.MaxMessageSize, 0));
        while (true)
        {
            int needed = FrameHeader.Size;
            while (_receiveEnd > _receiveStart)
            {
                FrameParseResult result = FrameReader.TryParse(_receiveBuffer.AsSpan(_receiveStart, _receiveEnd - _receiveStart), limits,
                    out Frame frame, out needed, out ProtocolErrorCode code, out string? reason);
                if (result == FrameParseResult.Complete)
                {
                    Exception? end = HandleFrame(frame, path);
                    _receiveStart += needed;
                    if (end is not null)
                    {
                        return end;
                    }
                    continue;
                }
                if (result == FrameParseResult.Invalid)
                {
                    return new HubException(code, reason ?? code.ToString(), $"the hub sent an invalid frame: {code}: {reason}");
                }
                break;
            }
            MakeRoom(needed);

            IoResult io;
            try
            {
                io = path.Receive(_receiveBuffer.AsSpan(_receiveEnd));
            }
            catch (IpcException ex)
            {
                return ex;
            }
            catch (ObjectDisposedException ex)
            {
                return ex;
            }
            if (io.Status == IoStatus.EndOfStream)
            {
                return _receiveEnd > _receiveStart
                    ? new HubConnectionException("the hub closed the connection in the middle of a frame")
                    : new HubConnectionException("the hub closed the connection");
            }
            if (io.Status == IoStatus.PeerClosed)
            {
                return new HubConnectionException("the connection was reset");
            }
            _receiveEnd += io.BytesTransferred;
        }
    }

    /// <summary>Makes room at the end of the receive buffer for a frame of <paramref name="needed"/> bytes starting at the read position.</summary>
    private void MakeRoom(int needed)
    {
        if (_receiveStart == _receiveEnd)
        {
            _receiveStart = _receiveEnd = 0;
        }
        if (_receiveBuffer.Length - _receiveStart >= Math.Max(needed, 1) && _receiveEnd < _receiveBuffer.Length)
        {
            return;
        }
        int pending = _receiveEnd - _receiveStart;
        byte[] target = _receiveBuffer;
        if (needed > _receiveBuffer.Length)
        {
            target = new byte[Math.Max(needed, Math.Min(_receiveBuffer.Length * 2, int.MaxValue / 2))];
        }
        _receiveBuffer.AsSpan(_receiveStart, pending).CopyTo(target);
        _receiveBuffer = target;
        _receiveStart = 0;
        _receiveEnd = pending;
    }

    private void TakeLeftover(byte[] leftover)
    {
        if (leftover.Length > _receiveBuffer.Length)
        {
            _receiveBuffer = new byte[leftover.Length];
        }
        leftover.CopyTo(_receiveBuffer, 0);
        _receiveStart = 0;
        _receiveEnd = leftover.Length;
    }

    /// <summary>Handles one frame from the hub; returns non-null when the connection is over.</summary>
    private Exception? HandleFrame(Frame frame, IClientDataPath path)
    {
        switch (frame.Type)
        {
            case FrameType.Data:
                if (frame.DescriptorCount == 0)
                {
                    Dispatch(frame.Channel, frame.Sequence, frame.Priority, frame.Payload, null);
                    return null;
                }
                DescriptorBatch? batch = path.TakeDescriptors();
                if (batch is null)
                {
                    return new HubException(ProtocolErrorCode.DescriptorsLost, "descriptors missing", string.Create(CultureInfo.InvariantCulture,
                        $"the hub sent message {frame.Sequence} on '{Encoding.UTF8.GetString(frame.Channel)}' with {frame.DescriptorCount} descriptors, but none arrived"));
                }
                if (!batch.IsLost && batch.Count != frame.DescriptorCount)
                {
                    int count = batch.Count;
                    batch.Dispose();
                    return new HubException(ProtocolErrorCode.InvalidFlags, "descriptor count mismatch", string.Create(CultureInfo.InvariantCulture,
                        $"the hub sent a message declaring {frame.DescriptorCount} descriptors with {count}"));
                }
                Dispatch(frame.Channel, frame.Sequence, frame.Priority, frame.Payload, batch);
                return null;
            case FrameType.Ack:
                if (!AckPayload.TryRead(frame.Payload, out AckPayload ack))
                {
                    return new HubException(ProtocolErrorCode.InvalidPayload, "malformed Ack",
                        $"the hub sent a malformed Ack ({frame.Payload.Length} bytes)");
                }
                CompleteRequest(frame.Sequence, new PublishResult(ack.Delivered, ack.NotDelivered, ack.ChannelSequence, ack.CannotCarryDescriptors));
                return null;
            case FrameType.Pong:
                CompleteRequest(frame.Sequence, default);
                return null;
            case FrameType.Error:
            {
                ErrorPayload.TryRead(frame.Payload, out ProtocolErrorCode code, out string reason);
                bool fatal = (frame.Flags & FrameFlags.Fatal) != 0;
                FailRequest(frame.Sequence, code, reason, fatal);
                return fatal ? new HubException(code, reason, $"the hub closed the connection: {code}: {reason}") { IsFatal = true } : null;
            }
            case FrameType.Goodbye:
            {
                string reason = Encoding.UTF8.GetString(frame.Payload);
                return new HubConnectionException(reason.Length == 0 ? "the hub said goodbye" : $"the hub said goodbye: {reason}");
            }
            case FrameType.Ping:
                lock (_gate)
                {
                    FrameWriter.Write(AppendLocked(FrameHeader.Size), FrameType.Pong, FrameFlags.None, frame.Sequence, default, default);
                    ScheduleFlushLocked();
                }
                return null;
            default:
                return new HubException(ProtocolErrorCode.UnknownType, $"unexpected {frame.Type} frame",
                    $"the hub sent an unexpected {frame.Type} frame");
        }
    }

    private void Dispatch(ReadOnlySpan<byte> channel, ulong sequence, ushort priority, ReadOnlySpan<byte> payload, DescriptorBatch? batch)
    {
        try
        {
            DispatchCore(channel, sequence, priority, payload, batch);
        }
        finally
        {
            batch?.Dispose(); // whatever no subscription took
        }
    }

    private void DispatchCore(ReadOnlySpan<byte> channel, ulong sequence, ushort priority, ReadOnlySpan<byte> payload, DescriptorBatch? batch)
    {
        ChannelEntry entry = _channels.Get(channel);
        int version = Volatile.Read(ref _subscriptionsVersion);
        if (entry.MatchesVersion != version)
        {
            bool hadMatches = entry.Matches.Length > 0;
            entry.Matches = MatchesOf(channel);
            entry.MatchesVersion = version;
            if (!hadMatches || entry.Matches.Length == 0)
            {
                entry.LastSequence = 0; // not received until now: no gap to report
            }
        }
        int reset = Volatile.Read(ref _sequenceResetVersion);
        if (entry.ResetVersion != reset)
        {
            entry.ResetVersion = reset;
            entry.LastSequence = 0;
        }
        HubSubscription[] matches = entry.Matches;
        if (matches.Length == 0)
        {
            return;
        }

        ulong last = entry.LastSequence;
        if (last == 0)
        {
            entry.LastSequence = sequence;
            entry.Ahead?.Clear();
        }
        else if (sequence == last + 1)
        {
            entry.LastSequence = Fold(entry, sequence);
        }
        else if (sequence > last + 1)
        {
            if (priority > 0 && (entry.Ahead?.Count ?? 0) < MaxAhead)
            {
                // Over message queues a higher priority overtakes lower ones still queued: the skipped
                // sequences are late, not lost (they are counted when a message arrives in order after them).
                (entry.Ahead ??= []).Add(sequence);
            }
            else
            {
                long missed = (long)(sequence - last - 1);
                if (entry.Ahead is { Count: > 0 })
                {
                    missed -= RemoveEarlierThan(entry.Ahead, sequence);
                }
                if (missed > 0)
                {
                    foreach (HubSubscription s in matches)
                    {
                        s.AddMissed(missed);
                    }
                    Raise(MessagesMissed, new HubMessagesMissedEventArgs(entry.NameString, last + 1, sequence - 1));
                }
                entry.LastSequence = Fold(entry, sequence);
            }
        }
        HubException? lost = batch is { IsLost: true } ? DescriptorsLost(entry.NameString, sequence) : null;
        for (int i = 0; i < matches.Length; i++)
        {
            HubSubscription s = matches[i];
            try
            {
                if (batch is null)
                {
                    s.Deliver(entry.NameString, channel, sequence, payload);
                    continue;
                }
                SafeFdHandle[]? handles = null;
                HubException? error = lost;
                if (error is null)
                {
                    // Each subscription owns what it gets: the last takes the received handles, the others copies.
                    error = i == matches.Length - 1 ? null : TryDuplicate(batch, entry.NameString, sequence, out handles);
                    handles ??= error is null ? batch.TakeHandles() : null;
                }
                s.Deliver(entry.NameString, channel, sequence, payload, handles ?? [], error);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ClientLog.CallbackFailed(_logger, ex);
                Raise(ErrorReceived, new HubErrorEventArgs(ex, 0));
            }
        }
    }

    /// <summary>The error a message gets whose descriptors the kernel could not hand over; also reported through <see cref="ErrorReceived"/>.</summary>
    private HubException DescriptorsLost(string channel, ulong sequence)
    {
        string reason = string.Create(CultureInfo.InvariantCulture,
            $"the descriptors of message {sequence} on '{channel}' were lost: this process's descriptor table is full (recvmsg: MSG_CTRUNC, EMFILE (Too many open files))");
        var error = new HubException(ProtocolErrorCode.DescriptorsLost, reason, reason);
        ClientLog.UnawaitedError(_logger, reason);
        Raise(ErrorReceived, new HubErrorEventArgs(error, 0));
        return error;
    }

    /// <summary>Copies of a batch's descriptors for one more subscription; on failure (EMFILE) the error instead.</summary>
    private static HubException? TryDuplicate(DescriptorBatch batch, string channel, ulong sequence, out SafeFdHandle[]? copies)
    {
        copies = null;
        var made = new SafeFdHandle[batch.Count];
        int count = 0;
        try
        {
            for (; count < made.Length; count++)
            {
                made[count] = FileDescriptor.Duplicate(batch.Handles[count]);
            }
            copies = made;
            return null;
        }
        catch (IpcException e)
        {
            for (int i = 0; i < count; i++)
            {
                made[i].Dispose();
            }
            string reason = string.Create(CultureInfo.InvariantCulture,
                $"the descriptors of message {sequence} on '{channel}' could not be copied for one more subscription: {e.Message}");
            return new HubException(ProtocolErrorCode.DescriptorsLost, reason, reason);
        }
    }

    /// <summary>How many early (overtaking) sequences a channel remembers before it counts the skipped ones as missed.</summary>
    private const int MaxAhead = 4096;

    /// <summary>Drops the early sequences below <paramref name="sequence"/> (no lambda: a capture would allocate on every Dispatch); returns how many.</summary>
    private static int RemoveEarlierThan(HashSet<ulong> ahead, ulong sequence)
    {
        int removed = 0;
        foreach (ulong a in ahead.ToArray())
        {
            if (a < sequence && ahead.Remove(a))
            {
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Advances past <paramref name="sequence"/> and every early sequence that now follows on.</summary>
    private static ulong Fold(ChannelEntry entry, ulong sequence)
    {
        if (entry.Ahead is { Count: > 0 } ahead)
        {
            while (ahead.Remove(sequence + 1))
            {
                sequence++;
            }
        }
        return sequence;
    }

    private HubSubscription[] MatchesOf(ReadOnlySpan<byte> channel)
    {
        HubSubscription[] all = Volatile.Read(ref _subscriptions);
        int count = 0;
        foreach (HubSubscription s in all)
        {
            if (ChannelName.Matches(s.PatternBytes, channel))
            {
                count++;
            }
        }
        if (count == 0)
        {
            return [];
        }
        var matches = new HubSubscription[count];
        int i = 0;
        foreach (HubSubscription s in all)
        {
            if (ChannelName.Matches(s.PatternBytes, channel))
            {
                matches[i++] = s;
            }
        }
        return matches;
    }

    private void CompleteRequest(ulong id, PublishResult result)
    {
        PendingEntry entry;
        lock (_gate)
        {
            if (!_pending.Remove(id, out entry))
            {
                return;
            }
        }
        if (entry.Kind == RequestKind.Resubscribe)
        {
            ResubscribeDone();
        }
        else
        {
            entry.Source!.SetResult(result);
        }
    }

    private void FailRequest(ulong id, ProtocolErrorCode code, string reason, bool fatal)
    {
        PendingEntry entry = default;
        bool found = false;
        if (id != 0)
        {
            lock (_gate)
            {
                found = _pending.Remove(id, out entry);
            }
        }
        if (!found)
        {
            if (!fatal)
            {
                var unawaited = new HubException(code, reason, id == 0
                    ? $"the hub reported an error: {code}: {reason}"
                    : string.Create(CultureInfo.InvariantCulture, $"request {id} refused by the hub: {code}: {reason}"));
                ClientLog.UnawaitedError(_logger, unawaited.Message);
                Raise(ErrorReceived, new HubErrorEventArgs(unawaited, id));
            }
            return;
        }
        var error = new HubException(code, reason, $"{Describe(entry)} refused by the hub: {code}: {reason}") { IsFatal = fatal };
        if (entry.Kind == RequestKind.Resubscribe)
        {
            ClientLog.UnawaitedError(_logger, error.Message);
            Raise(ErrorReceived, new HubErrorEventArgs(error, id));
            ResubscribeDone();
        }
        else
        {
            entry.Source!.SetException(error);
        }
    }

    private static string Describe(in PendingEntry entry) => entry.Kind switch
    {
        RequestKind.Publish => $"publish to '{entry.Channel}'",
        RequestKind.Subscribe => $"subscribe to '{entry.Channel}'",
        RequestKind.Resubscribe => $"subscribe again to '{entry.Channel}'",
        RequestKind.Unsubscribe => $"unsubscribe from '{entry.Channel}'",
        _ => "flush",
    };

    private void ResubscribeDone()
    {
        if (_resubscribeOutstanding > 0 && --_resubscribeOutstanding == 0)
        {
            Raise(StateChanged, new HubConnectionStateChangedEventArgs(HubConnectionState.Reconnected, null, _resubscribeTotal));
        }
    }

    /// <summary>
    /// After the connection ended: fails what the old hub had not answered, then reconnects (true: go on
    /// receiving) or closes the client (false).
    /// </summary>
    private bool Recover(Exception reason)
    {
        IClientDataPath? old;
        List<PendingEntry> lost;
        lock (_gate)
        {
            old = _path;
            _path = null;
            long lostEpoch = _epoch++;
            _sendLength = 0; // frames of the lost connection: never sent again
            ReleaseMarks(_sendMarks);
            if (_sendError is not null && reason is HubConnectionException)
            {
                reason = _sendError;
            }
            _sendError = null;
            lost = TakePendingLocked(lostEpoch);
            if (!_disposed && _options.Reconnect && _state != HubConnectionState.Closed)
            {
                _state = HubConnectionState.Reconnecting;
            }
            Monitor.PulseAll(_gate);
        }
        old?.Shutdown();
        lock (_gate)
        {
            while (_flushing)
            {
                Monitor.Wait(_gate);
            }
        }
        old?.Dispose();
        _resubscribeOutstanding = 0;

        if (_disposed || _stop.IsCancellationRequested)
        {
            Fail(lost, new ObjectDisposedException(nameof(HubClient)));
            Close(null);
            return false;
        }
        var lostError = new HubConnectionException($"connection to the hub lost: {DescribeReason(reason)}", reason);
        Fail(lost, lostError);
        if (!_options.Reconnect)
        {
            Close(lostError);
            return false;
        }

        ClientLog.Reconnecting(_logger, DescribeReason(reason), _options.ReconnectTimeout.TotalSeconds);
        Raise(StateChanged, new HubConnectionStateChangedEventArgs(HubConnectionState.Reconnecting, lostError, 0));
        EstablishedConnection? connection = HubConnector.Connect(SocketPath, _transport, _options.ClientName,
            _options.ReconnectTimeout, _stop.Token, out Exception? lastError);
        if (connection is null)
        {
            if (_stop.IsCancellationRequested)
            {
                Close(null);
                return false;
            }
            Close(new HubConnectionException(string.Create(CultureInfo.InvariantCulture,
                $"connection to the hub lost: {DescribeReason(reason)}; reconnecting failed for {_options.ReconnectTimeout.TotalSeconds:0.###} s: {HubConnector.CannotConnect(SocketPath, lastError, null)}"),
                lastError));
            return false;
        }

        int patterns;
        lock (_gate)
        {
            if (_disposed || _state == HubConnectionState.Closed)
            {
                connection.Path.Shutdown();
                connection.Path.Dispose();
                Close(null);
                return false;
            }
            _facts = new ConnectionFacts(connection.Welcome);
            // The Subscribe frames go before whatever was queued while disconnected.
            byte[] queued = _sendBuffer.AsSpan(0, _sendLength).ToArray();
            _sendLength = 0;
            DescriptorMark[] queuedMarks = [.. _sendMarks];
            _sendMarks.Clear();
            foreach (KeyValuePair<string, PatternEntry> pattern in _patterns)
            {
                ulong id = NextRequestId();
                byte[] bytes = pattern.Value.Bytes;
                FrameWriter.Write(AppendLocked(FrameWriter.FrameLength(bytes.Length, 0)), FrameType.Subscribe, FrameFlags.None, id, bytes, default);
                _pending.Add(id, new PendingEntry(null, RequestKind.Resubscribe, _epoch, pattern.Key));
            }
            int shift = _sendLength;
            queued.CopyTo(AppendLocked(queued.Length));
            foreach (DescriptorMark mark in queuedMarks)
            {
                _sendMarks.Add(mark with { Offset = mark.Offset + shift });
            }
            patterns = _patterns.Count;
            _resubscribeOutstanding = patterns;
            _resubscribeTotal = patterns;
            Interlocked.Increment(ref _sequenceResetVersion); // a new connection (maybe a new hub): sequences start over
            _path = connection.Path;
            _path.SpinNs = _options.SpinWait.Ticks * 100;
            _state = HubConnectionState.Connected;
            ScheduleFlushLocked();
            Monitor.PulseAll(_gate);
        }
        TakeLeftover(connection.Leftover);
        ClientLog.Reconnected(_logger, SocketPath, connection.Welcome.ClientId, connection.Welcome.HubPid, patterns);
        if (patterns == 0)
        {
            Raise(StateChanged, new HubConnectionStateChangedEventArgs(HubConnectionState.Reconnected, null, 0));
        }
        return true;
    }

    private static string DescribeReason(Exception reason) => reason switch
    {
        IpcException ipc => $"{ipc.ErrnoName} ({ipc.ErrnoDescription})",
        _ => reason.Message,
    };

    /// <summary>Removes and returns the pending requests of epochs up to <paramref name="upToEpoch"/> (all when null).</summary>
    private List<PendingEntry> TakePendingLocked(long? upToEpoch)
    {
        var taken = new List<PendingEntry>();
        var ids = new List<ulong>();
        foreach (KeyValuePair<ulong, PendingEntry> pair in _pending)
        {
            if (upToEpoch is null || pair.Value.Epoch <= upToEpoch.Value)
            {
                taken.Add(pair.Value);
                ids.Add(pair.Key);
            }
        }
        foreach (ulong id in ids)
        {
            _pending.Remove(id);
        }
        return taken;
    }

    private static void Fail(List<PendingEntry> entries, Exception error)
    {
        foreach (PendingEntry entry in entries)
        {
            entry.Source?.SetException(error);
        }
    }

    /// <summary>Closes the client for good: fails everything pending, ends every subscription. Idempotent.</summary>
    private void Close(HubConnectionException? error)
    {
        List<PendingEntry> pending;
        HubSubscription[] subscriptions;
        IClientDataPath? path;
        lock (_gate)
        {
            if (_state == HubConnectionState.Closed)
            {
                return;
            }
            _state = HubConnectionState.Closed;
            _closedError = error;
            path = _path;
            _path = null;
            ReleaseMarks(_sendMarks); // frames that will never be sent
            pending = TakePendingLocked(null);
            subscriptions = _subscriptions;
            Monitor.PulseAll(_gate);
        }
        path?.Shutdown();
        Fail(pending, error is null ? new ObjectDisposedException(nameof(HubClient)) : new HubConnectionException(error.Message, error.InnerException));
        foreach (HubSubscription s in subscriptions)
        {
            s.Complete(error);
        }
        if (error is null)
        {
            ClientLog.Disposed(_logger);
        }
        else
        {
            ClientLog.Closed(_logger, error.Message);
        }
        Raise(StateChanged, new HubConnectionStateChangedEventArgs(HubConnectionState.Closed, error, 0));
    }

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        if (handler is null)
        {
            return;
        }
        try
        {
            handler(this, args);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ClientLog.CallbackFailed(_logger, ex);
        }
    }

    // --- disposal ----------------------------------------------------------------------------

    /// <summary>Says Goodbye (after what is queued), closes the connection and stops the receive thread.</summary>
    public void Dispose()
    {
        bool flush = false;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            if (_state == HubConnectionState.Connected && _path is not null)
            {
                const string reason = "client closing";
                FrameWriter.WriteGoodbye(AppendLocked(FrameWriter.FrameLength(0, reason.Length)), reason);
                flush = BeginFlushLocked();
            }
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        if (flush)
        {
            FlushLoop();
        }
        IClientDataPath? path;
        lock (_gate)
        {
            var deadline = DateTime.UtcNow + s_disposeDrain;
            while ((_flushing || _sendLength > 0) && _path is not null)
            {
                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left))
                {
                    break;
                }
            }
            path = _path;
        }
        _stop.Cancel();
        path?.Shutdown();
        bool joined = Thread.CurrentThread == _receiveThread
            || _receiveThread.ThreadState == ThreadState.Unstarted
            || _receiveThread.Join(s_receiveThreadJoin);
        Close(null);
        if (joined && Thread.CurrentThread != _receiveThread)
        {
            lock (_gate)
            {
                _path?.Dispose();
                _path = null;
            }
            _stop.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // --- validation --------------------------------------------------------------------------

    /// <summary>Encodes and validates a channel name or pattern into <paramref name="destination"/> (255 bytes); returns its length.</summary>
    private static int EncodeChannel(string value, Span<byte> destination, bool pattern, string paramName)
    {
        ArgumentNullException.ThrowIfNull(value, paramName);
        string what = pattern ? "subscription pattern" : "channel name";
        int count = Encoding.UTF8.GetByteCount(value);
        if (count == 0)
        {
            throw new ArgumentException($"invalid {what} '': the channel name is empty", paramName);
        }
        if (count > FrameHeader.MaxChannelLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"invalid {what} '{value}': it is {count} bytes long; the limit is {FrameHeader.MaxChannelLength}"), paramName);
        }
        int length = Encoding.UTF8.GetBytes(value, destination);
        ReadOnlySpan<byte> bytes = destination[..length];
        if (!(pattern ? ChannelName.IsValidPattern(bytes) : ChannelName.IsValidName(bytes)))
        {
            throw new ArgumentException($"invalid {what} '{value}': {ChannelName.Explain(bytes, pattern)}", paramName);
        }
        return length;
    }

    private static byte[] EncodePattern(string pattern)
    {
        Span<byte> buffer = stackalloc byte[FrameHeader.MaxChannelLength];
        return buffer[..EncodeChannel(pattern, buffer, pattern: true, nameof(pattern))].ToArray();
    }

    private static void CheckPriority(ushort priority)
    {
        if (priority > FrameHeader.MaxPriority)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, $"A priority is at most {FrameHeader.MaxPriority}.");
        }
    }

    private void CheckDescriptors(string channel, IReadOnlyList<SafeHandle> descriptors)
    {
        int max = _facts.MaxDescriptorsPerMessage;
        if (max == 0)
        {
            throw new NotSupportedException(
                $"the {TransportNames.Of(_facts.Transport)} transport cannot carry descriptors; connect with the socket or pipe transport to publish to '{channel}' with descriptors");
        }
        if (descriptors.Count > max)
        {
            string reason = string.Create(CultureInfo.InvariantCulture,
                $"a message may carry at most {max} descriptors (the hub's --max-fds-per-message); this one has {descriptors.Count}");
            throw new HubException(ProtocolErrorCode.TooManyDescriptors, reason, $"cannot publish to '{channel}': {reason}");
        }
        for (int i = 0; i < descriptors.Count; i++)
        {
            SafeHandle? handle = descriptors[i];
            if (handle is null || handle.IsInvalid || handle.IsClosed)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"descriptor {i} of the message to '{channel}' is {(handle is null ? "null" : "not open")}"), nameof(descriptors));
            }
        }
    }

    private void CheckPayloadSize(string channel, int length)
    {
        int max = _facts.MaxMessageSize;
        if (length > max)
        {
            ThrowTooLarge(channel, length, max);
        }
    }

    private static void ThrowTooLarge(string channel, int length, int max)
    {
        string reason = string.Create(CultureInfo.InvariantCulture,
            $"the message is {length} bytes; the maximum message size is {max} bytes");
        throw new HubException(ProtocolErrorCode.PayloadTooLarge, reason,
            $"publish to '{channel}' refused: {ProtocolErrorCode.PayloadTooLarge}: {reason} (the hub's limit; nothing was sent)");
    }

    // --- small types -------------------------------------------------------------------------

    private sealed class ConnectionFacts(WelcomePayload welcome)
    {
        public ulong ClientId { get; } = welcome.ClientId;

        public int MaxMessageSize { get; } = welcome.MaxMessageSize;

        public int HubPid { get; } = welcome.HubPid;

        public TransportKind Transport { get; } = welcome.Transport;

        public int MaxDescriptorsPerMessage { get; } = welcome.MaxDescriptorsPerMessage;
    }

    private sealed class PatternEntry(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public int Count { get; set; } = 1;
    }

    private sealed class CancelState(HubClient client, ulong id, PendingRequest request, CancellationToken token)
    {
        public void Cancel() => client.CancelRequest(id, request, token);
    }

    private sealed class FlushWorkItem(HubClient client) : IThreadPoolWorkItem
    {
        public void Execute() => client.FlushLoop(linger: true);
    }
}
