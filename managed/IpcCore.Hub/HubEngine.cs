using System.Runtime.InteropServices;
using System.Globalization;
using IpcCore.Hub.Transports;
using IpcCore.Native;
using IpcCore.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcCore.Hub;

/// <summary>
/// The hub's single event-loop thread and everything it does: accept, read, parse, route, queue, flush,
/// flow control, deadlines and shutdown. See docs/ARCHITECTURE.md ("Hub") for the design; in short, one
/// epoll wait yields a batch of ready handles; each readable client is read (bounded per wait) and all its
/// complete frames are handled, which queues output on the clients concerned; after the batch, stalled
/// publishers are retried and every connection with new output is flushed with as few writes as possible.
/// </summary>
internal sealed class HubEngine : IConnectionEvents, IPollHandler, IDisposable
{
    /// <summary>Bytes read from one client per wake-up before the others get their turn.</summary>
    internal const int ReadBudget = 1024 * 1024;

    /// <summary>Connections allowed beyond the client limit while their Hello is pending (they get TooManyClients).</summary>
    internal const int HandshakeSlack = 64;

    private const int AcceptsPerWake = 64;
    private const long DropLogIntervalNs = 10_000_000_000;
    private const long AcceptRetryNs = 100_000_000;
    private const int MaxSettlePasses = 8;

    /// <summary>How long a closing connection may take to accept its last bytes (the fatal Error, the Goodbye).</summary>
    internal const long CloseLingerNs = 2_000_000_000;

    private readonly HubOptions _options;
    private readonly ILogger _logger;
    private readonly ProtocolLimits _limits;
    private readonly EventLoop _loop;
    private readonly IHubTransport?[] _transports = new IHubTransport?[256];
    private readonly string _transportList;
    private readonly int _maxFrameLength;
    private readonly long _slowDeadlineNs;
    private readonly int _hubPid;
    private readonly bool _traceEnabled;
    private readonly long _spinNs;
    private int _waitsSkipped;

    private readonly List<ClientConnection> _connections = [];
    private readonly List<ClientConnection> _dirty = [];
    private readonly List<ClientConnection> _pendingCloses = [];
    private readonly List<ClientConnection> _resume = [];
    private readonly List<ClientConnection> _blockers = [];
    private readonly List<Channel> _stalledChannels = [];
    private readonly List<ClientConnection> _lingering = [];

    private UnixSocket? _listener;
    private long _listenerToken;
    private bool _listenerPaused;
    private long _listenerRetryAtNs;

    private ulong _nextClientId = 1;
    private int _welcomed;
    private bool _retryStalls;
    private bool _dropsPending;
    private long _lastDropLogNs;

    private volatile bool _stopRequested;
    private bool _draining;
    private long _drainDeadlineNs;

    // Connections that have not sent Hello yet, oldest first (they were accepted in deadline order).
    private readonly List<ClientConnection> _handshaking = [];
    private bool _disposed;

    private long _loopAllocatedBytes;
    private long _iterations;
    private int _clientCount;
    private int _polledPaths; // shared-memory clients ever welcomed (the polling passes run only once there was one)

    public HubEngine(HubOptions options, ILogger logger, UnixSocket listener, IReadOnlyList<IHubTransport> transports)
    {
        _options = options;
        _logger = logger;
        _limits = new ProtocolLimits(options.MaxMessageSize);
        _maxFrameLength = _limits.MaxFrameLength;
        _slowDeadlineNs = (long)(options.SlowDeadline.TotalMilliseconds * 1_000_000);
        _hubPid = ProcessInfo.CurrentPid;
        _traceEnabled = logger.IsEnabled(LogLevel.Trace);
        _spinNs = options.SpinWait.Ticks * 100;
        Router = new Router(options.MaxChannels, options.MaxSubscriptionsPerClient);
        foreach (IHubTransport t in transports)
        {
            _transports[(int)t.Kind] = t;
        }
        _transportList = string.Join(", ", transports.Select(t => t.Name));
        _loop = new EventLoop();
        _listener = listener;
        _listenerToken = _loop.Register(listener.Handle, PollEvents.POLLIN, this, 0);
    }

    internal Router Router { get; }

    /// <summary>Bytes the loop thread has allocated so far (sampled after every batch; tests check the hot path allocates nothing).</summary>
    internal long LoopAllocatedBytes => Interlocked.Read(ref _loopAllocatedBytes);

    /// <summary>Wake-ups of the loop so far (tests: an idle hub does not spin).</summary>
    internal long Iterations => Interlocked.Read(ref _iterations);

    /// <summary>Open connections (sampled after every batch).</summary>
    internal int ClientCount => Volatile.Read(ref _clientCount);

    /// <summary>Asks the loop to shut down; callable from any thread (a signal handler).</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _loop.Wake();
    }

    /// <summary>Runs the loop until <see cref="RequestStop"/>, then says goodbye, drains and closes every client.</summary>
    public void Run()
    {
        while (true)
        {
            int timeoutMs = ComputeTimeoutMs();
            bool skipWait = false;
            if (timeoutMs != 0 && _spinNs > 0 && SpinForWork())
            {
                // The spin found ring input, or dispatched what epoll had: no epoll_wait on the way to serving it
                // (a system call on every message's path), but one at least every 16 rounds so sockets are served.
                skipWait = ++_waitsSkipped < 16;
                timeoutMs = 0;
            }
            else if (timeoutMs != 0 && _polledPaths > 0 && !PreparePolledSleep())
            {
                timeoutMs = 0;
            }
            if (!skipWait)
            {
                _waitsSkipped = 0;
                _loop.WaitAndDispatch(timeoutMs);
            }
            if (_polledPaths > 0)
            {
                PollDataPaths();
            }
            if (_stopRequested && !_draining)
            {
                BeginDrain();
            }
            Settle();
            if (_draining && (_connections.Count == 0 || MonotonicClock.NowNs >= _drainDeadlineNs))
            {
                break;
            }
            Volatile.Write(ref _clientCount, _connections.Count);
            Interlocked.Exchange(ref _loopAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
            Interlocked.Increment(ref _iterations);
        }
        FinishDrain();
        Volatile.Write(ref _clientCount, 0);
    }

    /// <summary>
    /// Before sleeping (<see cref="HubOptions.SpinWait"/> > 0): watches for work for a while, so a stream with
    /// short pauses is served without a wake-up per message (a sleeping loop costs each message ~10 µs, ~20 µs
    /// when its idle vCPU must be woken too). The shared-memory rings are checked every round, the other
    /// handles with a zero-timeout epoll_wait (every 16th round while there are shm clients, else every round).
    /// Bounded, yielding now and then: on a small machine the peers need the cores. True when there is work.
    /// </summary>
    private bool SpinForWork()
    {
        long end = MonotonicClock.NowNs + _spinNs;
        int pollMask = _polledPaths > 0 ? 15 : 0;
        for (int i = 1; ; i++)
        {
            if (_polledPaths > 0)
            {
                foreach (ClientConnection c in _connections)
                {
                    if (c.DataPath is IPolledDataPath p && !c.IsDisposed
                        && ((!c.ReadPaused && p.HasInput) || (c.WantWrite && !c.PeerGone && p.HasSpace)))
                    {
                        return true;
                    }
                }
            }
            if ((i & pollMask) == 0)
            {
                if (_loop.WaitAndDispatch(0) > 0 || _stopRequested)
                {
                    return true;
                }
                if (MonotonicClock.NowNs >= end)
                {
                    return false;
                }
            }
            if ((i & 7) == 0)
            {
                Thread.Yield();
            }
            else
            {
                Thread.SpinWait(16);
            }
        }
    }

    /// <summary>
    /// Before epoll_wait: every shared-memory client learns that the hub sleeps (so its next commit or
    /// release rings the doorbell); false when one already has input or room for pending output.
    /// </summary>
    private bool PreparePolledSleep()
    {
        bool idle = true;
        foreach (ClientConnection c in _connections)
        {
            if (c.DataPath is IPolledDataPath p && !c.IsDisposed)
            {
                idle &= p.PrepareToSleep(!c.ReadPaused, c.WantWrite && !c.PeerGone);
            }
        }
        return idle;
    }

    /// <summary>After epoll_wait: clears the sleeping flags and serves the shared-memory clients that have input or room.</summary>
    private void PollDataPaths()
    {
        // Index loop: serving a client may add none, but closing is deferred to Settle, so the list is stable.
        for (int i = 0; i < _connections.Count; i++)
        {
            ClientConnection c = _connections[i];
            if (c.DataPath is not IPolledDataPath p || c.IsDisposed)
            {
                continue;
            }
            try
            {
                p.Awake();
                if (!c.ReadPaused && p.HasInput)
                {
                    OnReadable(c);
                }
                if (c.WantWrite && !c.PeerGone && p.HasSpace)
                {
                    MarkDirty(c);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                c.PeerGone |= e is IpcException;
                Failed(c, e);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (ClientConnection c in _connections)
        {
            c.Dispose();
        }
        _connections.Clear();
        CloseListener();
        _loop.Dispose();
    }

    // --- the listener ----------------------------------------------------------------------------

    /// <summary>The listener is readable: accept what is pending (bounded, the loop comes back for more).</summary>
    public void OnPollEvents(PollEvents events, int tag)
    {
        UnixSocket? listener = _listener;
        if (listener is null)
        {
            return;
        }
        for (int i = 0; i < AcceptsPerWake; i++)
        {
            UnixSocket? socket;
            try
            {
                socket = listener.TryAccept(nonBlocking: true);
            }
            catch (IpcException e)
            {
                // EMFILE and friends: stop listening for a moment instead of spinning on a ready listener.
                HubLog.AcceptFailed(_logger, e.Message);
                _loop.Modify(_listenerToken, listener.Handle, 0);
                _listenerPaused = true;
                _listenerRetryAtNs = MonotonicClock.NowNs + AcceptRetryNs;
                return;
            }
            if (socket is null)
            {
                return;
            }
            Accept(socket);
        }
    }

    private void Accept(UnixSocket socket)
    {
        ulong id = _nextClientId++;
        PeerCredentials peer = default;
        try
        {
            peer = socket.PeerCredentials;
        }
        catch (IpcException e)
        {
            HubLog.PeerCredentialsFailed(_logger, id, e.Message);
        }
        if (_connections.Count >= _options.MaxClients + HandshakeSlack)
        {
            HubLog.ConnectionRefused(_logger, peer.Pid, _connections.Count, _options.MaxClients, HandshakeSlack);
            RefuseNow(socket, ProtocolErrorCode.TooManyClients,
                Invariant($"the hub has {_connections.Count} connections open (limit {_options.MaxClients} clients)"));
            return;
        }
        var connection = new ClientConnection(id, socket, peer, _maxFrameLength, _options.QueueMessages, _options.QueueBytes, this,
            _options.MaxDescriptorsInFlight);
        try
        {
            connection.Register(_loop);
        }
        catch (IpcException e)
        {
            HubLog.AcceptFailed(_logger, e.Message);
            connection.Dispose();
            return;
        }
        connection.ConnectionIndex = _connections.Count;
        _connections.Add(connection);
        connection.HandshakeDeadlineNs = MonotonicClock.NowNs + (long)(_options.HandshakeTimeout.TotalMilliseconds * 1_000_000);
        _handshaking.Add(connection);
        HubLog.Accepted(_logger, id, peer.Pid, peer.Uid, peer.Gid);
    }

    private static void RefuseNow(UnixSocket socket, ProtocolErrorCode code, string reason)
    {
        try
        {
            Span<byte> frame = stackalloc byte[FrameWriter.ErrorFrameLength(reason)];
            FrameWriter.WriteError(frame, 0, code, reason, fatal: true);
            socket.TrySend(frame);
        }
        catch (IpcException)
        {
            // Best effort.
        }
        socket.Dispose();
    }

    private void CloseListener()
    {
        if (_listener is null)
        {
            return;
        }
        _loop.Unregister(_listenerToken, _listener.Handle);
        _listener.Dispose();
        _listener = null;
    }

    // --- local clients (the inbox FIFO, child processes) ---------------------------------------------

    /// <summary>
    /// Adds a client that lives in the hub: its data path turns lines into Publish frames (the inbox, a
    /// child's stdout) or Data frames into lines (a child's stdin). It is served like any other client
    /// (routing, order, backpressure) but has no control socket and does not count against --max-clients.
    /// </summary>
    internal ClientConnection AttachLocal(string name, IClientDataPath path, IEnumerable<string> subscriptions)
    {
        var connection = new ClientConnection(_nextClientId++, control: null, new PeerCredentials(_hubPid, (uint)ProcessInfo.EffectiveUid, 0),
            _maxFrameLength, _options.QueueMessages, _options.QueueBytes, this)
        {
            Name = name,
            Welcomed = true,
            IsLocal = true,
        };
        connection.SwitchDataPath(path);
        foreach (string pattern in subscriptions)
        {
            if (Router.Subscribe(connection, System.Text.Encoding.UTF8.GetBytes(pattern)) == SubscribeResult.LimitReached)
            {
                connection.Dispose();
                throw new InvalidOperationException($"{name}: the subscription limit does not allow '{pattern}'");
            }
        }
        try
        {
            connection.Register(_loop);
        }
        catch
        {
            Router.RemoveClient(connection);
            connection.Dispose();
            throw;
        }
        connection.ConnectionIndex = _connections.Count;
        _connections.Add(connection);
        string description = path.ToString() ?? "local";
        HubLog.ClientConnected(_logger, connection.Id, connection.Name, _hubPid, (uint)ProcessInfo.EffectiveUid, 0, description);
        return connection;
    }

    /// <summary>Watches <paramref name="handle"/> for POLLIN in the loop (a child's pidfd); returns the token for <see cref="Unwatch"/>.</summary>
    internal long Watch(System.Runtime.InteropServices.SafeHandle handle, IPollHandler handler, int tag) => _loop.Register(handle, PollEvents.POLLIN, handler, tag);

    internal void Unwatch(long token, System.Runtime.InteropServices.SafeHandle handle) => _loop.Unregister(token, handle);

    // --- connection events -----------------------------------------------------------------------

    public void OnConnectionEvents(ClientConnection connection, PollEvents events, int tag)
    {
        if (connection.IsDisposed)
        {
            return;
        }
        try
        {
            if (connection.IsDoorbell(tag))
            {
                // The client rang: after the batch the loop polls the rings of every shared-memory client.
                ((IPolledDataPath)connection.DataPath!).DrainDoorbell();
                return;
            }
            (bool read, bool write, bool controlOnly) = connection.RolesOf(tag);
            bool hangUp = (events & (PollEvents.POLLHUP | PollEvents.POLLERR)) != 0;
            if (hangUp)
            {
                connection.MarkHungUp(tag);
            }
            if (write && (events & PollEvents.POLLOUT) != 0)
            {
                MarkDirty(connection);
            }
            if (read && (events & (PollEvents.POLLIN | PollEvents.POLLHUP | PollEvents.POLLERR)) != 0)
            {
                if (!connection.ReadPaused)
                {
                    OnReadable(connection);
                }
                else if (hangUp)
                {
                    // Paused: what is in the socket is read on resume; stop hearing about the hang-up meanwhile.
                    connection.ApplyInterest();
                }
            }
            if (hangUp && write && connection.WantWrite)
            {
                MarkDirty(connection); // the write reports why (EPIPE)
            }
            if (hangUp && controlOnly)
            {
                RequestClose(connection, "the control connection closed");
            }
            else if (controlOnly && (events & PollEvents.POLLOUT) != 0 && connection.AheadBlocked)
            {
                // The client read descriptors sent ahead: the stream can go on.
                connection.AheadBlocked = false;
                MarkDirty(connection);
                connection.ApplyInterest();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            connection.PeerGone |= e is IpcException;
            Failed(connection, e);
        }
    }

    /// <summary>Serving one client failed: log it (a stack trace only for what is not a system-call error) and close that client.</summary>
    private void Failed(ClientConnection connection, Exception e)
    {
        HubLog.ConnectionFailed(_logger, connection.Id, connection.Name, e.Message, e is IpcException ? null : e);
        if (!connection.IsDisposed)
        {
            RequestClose(connection, (e is IpcException ? "" : "internal error: ") + e.Message);
        }
    }

    private void OnReadable(ClientConnection connection)
    {
        IClientDataPath path = connection.DataPath!;
        int budget = ReadBudget;
        while (budget > 0 && !connection.ReadPaused)
        {
            Span<byte> space = connection.Inbound.GetReadSpace(connection.Needed);
            if (space.IsEmpty)
            {
                return;
            }
            IoResult result = path.Read(space, connection.InboundDescriptors);
            switch (result.Status)
            {
                case IoStatus.Success:
                    int n = result.BytesTransferred;
                    connection.Inbound.Commit(n);
                    connection.BytesIn += n;
                    budget -= n;
                    ProcessInbound(connection);
                    if (connection.InboundDescriptors.Descriptors > _options.MaxDescriptorsInFlight && !connection.Closing)
                    {
                        // Batches ride with their frames' first bytes, so a well-behaved client has at most one
                        // unclaimed here: these are descriptors no message will claim.
                        Fatal(connection, ProtocolErrorCode.TooManyDescriptors, Invariant(
                            $"{connection.InboundDescriptors.Descriptors} descriptors arrived that no message claims (--max-fds-in-flight {_options.MaxDescriptorsInFlight})"));
                        return;
                    }
                    if (n < space.Length)
                    {
                        return; // drained for now
                    }
                    break;
                case IoStatus.WouldBlock:
                    return;
                default:
                    OnEndOfInput(connection, result.Status == IoStatus.PeerClosed);
                    return;
            }
        }
    }

    private void OnEndOfInput(ClientConnection connection, bool reset)
    {
        connection.InputEnded = true;
        connection.PeerGone |= reset;
        FrameAssembler inbound = connection.Inbound;
        if (!connection.Closing && (inbound.Count > 0 || inbound.IsDiscarding))
        {
            long needed = inbound.IsDiscarding ? inbound.DiscardRemaining + inbound.Count : connection.Needed;
            long have = inbound.IsDiscarding ? 0 : inbound.Count;
            HubLog.TruncatedFrame(_logger, connection.Id, connection.Name, have, needed);
            Fatal(connection, ProtocolErrorCode.TruncatedFrame,
                Invariant($"the connection ended inside a frame ({have} of {needed} bytes received)"));
            return;
        }
        RequestClose(connection, reset ? "the connection was reset" : "the client closed the connection");
    }

    // --- frames ----------------------------------------------------------------------------------

    private enum Outcome
    {
        Consumed,
        Stalled,
        Closed,
    }

    /// <summary>Handles every complete frame buffered for <paramref name="connection"/>, until one stalls or the buffer runs out.</summary>
    private void ProcessInbound(ClientConnection connection)
    {
        FrameAssembler inbound = connection.Inbound;
        while (!connection.Closing && !connection.Draining)
        {
            if (inbound.IsDiscarding && !inbound.DiscardBuffered())
            {
                return;
            }
            if (inbound.Count == 0)
            {
                connection.Needed = FrameHeader.Size;
                return;
            }
            if (connection.Outbound.IsOverLimit)
            {
                // The client does not read what it is sent: its requests wait until it does.
                connection.SelfStalled = true;
                connection.ApplyInterest();
                return;
            }
            FrameParseResult parse = FrameReader.TryParse(inbound.Data, _limits, out Frame frame, out int needed,
                out ProtocolErrorCode code, out string? reason);
            switch (parse)
            {
                case FrameParseResult.Incomplete:
                    connection.Needed = needed;
                    return;
                case FrameParseResult.Invalid:
                    if (code == ProtocolErrorCode.PayloadTooLarge && frame.Type == FrameType.Publish)
                    {
                        if (!connection.Welcomed)
                        {
                            Fatal(connection, ProtocolErrorCode.HandshakeRequired, "the first frame must be Hello (got Publish)");
                            return;
                        }
                        // Recoverable: refuse this message and skip its bytes as they come, never buffering them.
                        Refuse(connection, frame.Sequence, code, reason!);
                        inbound.BeginDiscard(needed);
                        connection.Needed = FrameHeader.Size;
                        continue;
                    }
                    Fatal(connection, code, reason!);
                    return;
                default:
                    if (_traceEnabled)
                    {
                        HubLog.FrameReceived(_logger, connection.Id, frame.Type, needed, frame.Sequence);
                    }
                    Outcome outcome = HandleFrame(connection, frame, inbound.Data[..needed]);
                    if (outcome == Outcome.Stalled)
                    {
                        connection.ApplyInterest();
                        return;
                    }
                    inbound.Consume(needed);
                    connection.Needed = FrameHeader.Size;
                    if (outcome == Outcome.Closed)
                    {
                        return;
                    }
                    break;
            }
        }
    }

    private Outcome HandleFrame(ClientConnection connection, in Frame frame, ReadOnlySpan<byte> raw)
    {
        if (!connection.Welcomed)
        {
            if (frame.Type != FrameType.Hello)
            {
                return Fatal(connection, ProtocolErrorCode.HandshakeRequired, Invariant($"the first frame must be Hello (got {frame.Type})"));
            }
            return HandleHello(connection, frame);
        }
        switch (frame.Type)
        {
            case FrameType.Publish:
                return HandlePublish(connection, frame, raw);
            case FrameType.Subscribe:
                return HandleSubscribe(connection, frame);
            case FrameType.Unsubscribe:
                return HandleUnsubscribe(connection, frame);
            case FrameType.Ping:
                if (!frame.Payload.IsEmpty)
                {
                    return Fatal(connection, ProtocolErrorCode.InvalidPayload, "a Ping frame carries no payload");
                }
                connection.Outbound.EnqueueControl(FrameType.Pong, frame.Sequence, default);
                MarkDirty(connection);
                return Outcome.Consumed;
            case FrameType.Pong:
                return Outcome.Consumed;
            case FrameType.Goodbye:
                RequestClose(connection, "the client said goodbye");
                return Outcome.Closed;
            case FrameType.Error:
                return HandleClientError(connection, frame);
            case FrameType.Hello:
                return Fatal(connection, ProtocolErrorCode.HandshakeRequired, "Hello came twice");
            default:
                return Fatal(connection, ProtocolErrorCode.UnknownType, Invariant($"a {frame.Type} frame is not accepted from a client"));
        }
    }

    private Outcome HandleHello(ClientConnection connection, in Frame frame)
    {
        if (!HelloPayload.TryRead(frame.Payload, out HelloPayload hello, out string? reason))
        {
            return Fatal(connection, ProtocolErrorCode.InvalidPayload, "invalid Hello: " + reason);
        }
        connection.Name = hello.ClientName;
        IHubTransport? transport = _transports[(int)hello.Transport];
        if (transport is null)
        {
            return Fatal(connection, ProtocolErrorCode.UnsupportedTransport,
                Invariant($"the {TransportName(hello.Transport)} transport is not available; this hub offers: {_transportList}"));
        }
        if (_welcomed >= _options.MaxClients)
        {
            return Fatal(connection, ProtocolErrorCode.TooManyClients,
                Invariant($"the hub has {_welcomed} clients, its limit (--max-clients {_options.MaxClients})"));
        }
        IClientDataPath path;
        try
        {
            path = transport.CreateDataPath(connection.Id, connection.Control!);
        }
        catch (IpcException e)
        {
            return Fatal(connection, ProtocolErrorCode.InternalError, $"the {transport.Name} transport could not be set up: {e.Message}");
        }
        ReadOnlySpan<byte> extension = path.WelcomeExtension;
        Span<byte> payload = stackalloc byte[WelcomePayload.Size + extension.Length];
        int maxDescriptors = path.Descriptors == DescriptorCarriage.None ? 0 : _options.MaxDescriptorsPerMessage;
        new WelcomePayload(connection.Id, _options.MaxMessageSize, _hubPid, transport.Kind, maxDescriptors).Write(payload);
        extension.CopyTo(payload[WelcomePayload.Size..]);
        if (path.SharesControlSocket)
        {
            connection.SwitchDataPath(path);
            connection.Outbound.EnqueueControl(FrameType.Welcome, 0, payload);
            MarkDirty(connection);
        }
        else
        {
            // Welcome goes over the control socket itself, with the descriptors the client needs (SCM_RIGHTS:
            // the doorbell, its pipe ends); every later frame takes the data path. A fresh connection's socket
            // buffer always takes it.
            byte[] welcome = new byte[FrameHeader.Size + payload.Length];
            new FrameHeader(FrameType.Welcome, FrameFlags.None, 0, payload.Length, 0).Write(welcome);
            payload.CopyTo(welcome.AsSpan(FrameHeader.Size));
            IoResult sent;
            try
            {
                SafeHandle[] descriptors = [.. path.WelcomeDescriptors];
                sent = descriptors.Length > 0
                    ? connection.Control!.TrySendWithDescriptors(welcome, descriptors)
                    : connection.Control!.TrySend(welcome);
            }
            catch (IpcException e)
            {
                path.Dispose();
                connection.PeerGone = true;
                RequestClose(connection, "sending Welcome failed: " + e.Message);
                return Outcome.Closed;
            }
            if (sent.Status != IoStatus.Success || sent.BytesTransferred != welcome.Length)
            {
                path.Dispose();
                connection.PeerGone = true;
                RequestClose(connection, "the control socket did not take Welcome");
                return Outcome.Closed;
            }
            path.WelcomeSent();
            connection.SwitchDataPath(path);
        }
        if (path is IPolledDataPath)
        {
            _polledPaths++;
        }
        connection.Welcomed = true;
        _welcomed++;
        PeerCredentials peer = connection.Peer;
        HubLog.ClientConnected(_logger, connection.Id, connection.Name, peer.Pid, peer.Uid, peer.Gid, transport.Name);
        return Outcome.Consumed;
    }

    private Outcome HandleSubscribe(ClientConnection connection, in Frame frame)
    {
        if (!frame.Payload.IsEmpty)
        {
            return Fatal(connection, ProtocolErrorCode.InvalidPayload, "a Subscribe frame carries no payload");
        }
        SubscribeResult result = Router.Subscribe(connection, frame.Channel);
        if (result == SubscribeResult.LimitReached)
        {
            Refuse(connection, frame.Sequence, ProtocolErrorCode.TooManySubscriptions,
                Invariant($"the client holds {connection.Subscriptions.Count} subscriptions, the limit (--max-subscriptions {_options.MaxSubscriptionsPerClient})"));
            return Outcome.Consumed;
        }
        if (result == SubscribeResult.Added)
        {
            // Routes changed: a publisher stalled on a subscriber that left a channel may go on.
            _retryStalls |= _stalledChannels.Count > 0;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string pattern = Utf8(frame.Channel);
                HubLog.Subscribed(_logger, connection.Id, connection.Name, pattern, connection.Subscriptions.Count);
            }
        }
        connection.Outbound.EnqueueAck(frame.Sequence, new AckPayload(connection.Subscriptions.Count, 0, 0));
        MarkDirty(connection);
        return Outcome.Consumed;
    }

    private Outcome HandleUnsubscribe(ClientConnection connection, in Frame frame)
    {
        if (!frame.Payload.IsEmpty)
        {
            return Fatal(connection, ProtocolErrorCode.InvalidPayload, "an Unsubscribe frame carries no payload");
        }
        if (!Router.Unsubscribe(connection, frame.Channel))
        {
            Refuse(connection, frame.Sequence, ProtocolErrorCode.NotSubscribed,
                "not subscribed to '" + Utf8(frame.Channel) + "' (Unsubscribe names a pattern exactly as subscribed)");
            return Outcome.Consumed;
        }
        _retryStalls |= _stalledChannels.Count > 0;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            string pattern = Utf8(frame.Channel);
            HubLog.Unsubscribed(_logger, connection.Id, connection.Name, pattern, connection.Subscriptions.Count);
        }
        connection.Outbound.EnqueueAck(frame.Sequence, new AckPayload(connection.Subscriptions.Count, 0, 0));
        MarkDirty(connection);
        return Outcome.Consumed;
    }

    private Outcome HandleClientError(ClientConnection connection, in Frame frame)
    {
        bool fatal = (frame.Flags & FrameFlags.Fatal) != 0;
        ErrorPayload.TryRead(frame.Payload, out ProtocolErrorCode code, out string reason);
        HubLog.ClientSentError(_logger, connection.Id, connection.Name, code, fatal ? " (fatal)" : string.Empty, reason);
        if (fatal)
        {
            RequestClose(connection, "the client reported a fatal error: " + reason);
            return Outcome.Closed;
        }
        return Outcome.Consumed;
    }

    /// <summary>
    /// Routes one Publish: the channel's next sequence number, one Data frame per subscribed client, then the
    /// Ack. Under backpressure/block the message goes to all subscribers or, when one has no room, to none:
    /// the publisher then waits (frame left in its buffer, reading paused) in the channel's FIFO, and so does
    /// every later publisher to the channel, so all subscribers see one order.
    /// </summary>
    private Outcome HandlePublish(ClientConnection connection, in Frame frame, ReadOnlySpan<byte> raw)
    {
        int descriptorCount = frame.DescriptorCount;
        if (descriptorCount > 0)
        {
            Outcome? refused = CheckDescriptors(connection, frame, descriptorCount);
            if (refused is { } outcome)
            {
                return outcome;
            }
        }
        Channel? channel = Router.GetOrAddChannel(frame.Channel);
        if (channel is null)
        {
            DiscardDescriptors(connection, descriptorCount);
            Refuse(connection, frame.Sequence, ProtocolErrorCode.TooManyChannels,
                Invariant($"the hub routes {Router.Channels.Count} channels, its limit (--max-channels {Router.MaxChannels})"));
            return Outcome.Consumed;
        }
        if (channel.IsStalled && !ReferenceEquals(channel.Waiters![0], connection))
        {
            return Stall(connection, channel);
        }
        ReadOnlySpan<ClientConnection> route = Router.GetRoute(channel);
        bool drop = _options.SlowPolicy == SlowConsumerPolicy.Drop;
        if (!drop)
        {
            bool fits = true;
            foreach (ClientConnection subscriber in route)
            {
                int carried = descriptorCount > 0 && CarriesDescriptors(subscriber) ? descriptorCount : 0;
                if ((descriptorCount == 0 || carried > 0) && !subscriber.Outbound.CanAccept(raw.Length, carried))
                {
                    fits = false;
                    MarkBlocker(subscriber);
                }
            }
            if (!fits)
            {
                return Stall(connection, channel);
            }
        }

        ulong sequence = ++channel.Sequence;
        int delivered = 0;
        int notDelivered = 0;
        int cannotCarry = 0;
        if (descriptorCount > 0)
        {
            RouteWithDescriptors(connection, raw, sequence, route, ref delivered, ref notDelivered, ref cannotCarry);
        }
        else
        {
            RoutePlain(raw, sequence, route, ref delivered, ref notDelivered);
        }
        if (ReferenceEquals(connection.StalledOn, channel))
        {
            // This was the channel's first waiter: it is through.
            channel.Waiters!.RemoveAt(0);
            connection.StalledOn = null;
            HubLog.PublisherResumed(_logger, connection.Id);
        }
        connection.Published++;
        if ((frame.Flags & FrameFlags.NoAck) == 0)
        {
            connection.Outbound.EnqueueAck(frame.Sequence, new AckPayload(delivered, notDelivered, sequence, cannotCarry));
            MarkDirty(connection);
        }
        return Outcome.Consumed;
    }

    private void RoutePlain(ReadOnlySpan<byte> raw, ulong sequence, ReadOnlySpan<ClientConnection> route, ref int delivered, ref int notDelivered)
    {
        foreach (ClientConnection subscriber in route)
        {
            if (!subscriber.Outbound.HasPending && !subscriber.PeerGone && subscriber.DataPath!.TryWriteData(raw, sequence))
            {
                // Straight into the subscriber's ring: nothing was queued ahead of it.
                delivered++;
                subscriber.Delivered++;
                subscriber.FullSinceNs = 0;
                subscriber.BytesOut += raw.Length;
            }
            else if (subscriber.Outbound.TryEnqueueData(raw, sequence))
            {
                Queued(subscriber, ref delivered);
            }
            else
            {
                Dropped(subscriber, ref notDelivered);
            }
        }
    }

    private void Queued(ClientConnection subscriber, ref int delivered)
    {
        delivered++;
        subscriber.Delivered++;
        subscriber.FullSinceNs = 0;
        MarkDirty(subscriber);
    }

    private void Dropped(ClientConnection subscriber, ref int notDelivered)
    {
        notDelivered++;
        subscriber.Dropped++;
        _dropsPending = true;
    }

    /// <summary>
    /// Routes a Publish that carries descriptors (already checked by <see cref="CheckDescriptors"/>, its batch first
    /// in the publisher's inbox). The hub keeps one copy of the batch, referenced by every subscriber's queue until
    /// sent (see <see cref="Flush"/>); subscribers whose transport cannot carry descriptors do not get the message and
    /// are counted for the Ack.
    /// </summary>
    private void RouteWithDescriptors(ClientConnection publisher, ReadOnlySpan<byte> raw, ulong sequence, ReadOnlySpan<ClientConnection> route,
        ref int delivered, ref int notDelivered, ref int cannotCarry)
    {
        publisher.InboundDescriptors.TryTake(out DescriptorBatch batch);
        var shared = new SharedDescriptors(batch.TakeHandles());
        batch.Dispose();
        try
        {
            foreach (ClientConnection subscriber in route)
            {
                if (!CarriesDescriptors(subscriber))
                {
                    notDelivered++;
                    cannotCarry += subscriber.PeerGone ? 0 : 1;
                }
                else if (subscriber.Outbound.TryEnqueueData(raw, sequence, shared))
                {
                    Queued(subscriber, ref delivered);
                }
                else
                {
                    Dropped(subscriber, ref notDelivered); // over a queue limit, bytes, frames or descriptors (the drop policy)
                }
            }
        }
        finally
        {
            shared.Release(); // the publish's own reference: the queues hold theirs
        }
    }

    private static bool CarriesDescriptors(ClientConnection subscriber)
        => !subscriber.PeerGone && subscriber.DataPath is { Descriptors: not DescriptorCarriage.None };

    /// <summary>
    /// Checks the descriptors a Publish declares against what arrived and the limits; leaves the batch first in
    /// the publisher's inbox when the publish may go on (null), else answers and returns the outcome.
    /// </summary>
    private Outcome? CheckDescriptors(ClientConnection connection, in Frame frame, int declared)
    {
        IClientDataPath path = connection.DataPath!;
        if (path.Descriptors == DescriptorCarriage.None)
        {
            Refuse(connection, frame.Sequence, ProtocolErrorCode.DescriptorsNotSupported, Invariant(
                $"the message declares {declared} descriptors, but the {TransportName(path.Kind)} transport cannot carry descriptors (only socket and pipe can)"));
            return Outcome.Consumed;
        }
        DescriptorInbox inbox = connection.InboundDescriptors;
        if (inbox.Batches == 0 && path.Descriptors == DescriptorCarriage.Ahead && !path.ReceiveDescriptorsAhead(inbox))
        {
            return Fatal(connection, ProtocolErrorCode.DescriptorsLost, "the control connection ended before the message's descriptors came");
        }
        if (!inbox.TryPeek(out DescriptorBatch batch))
        {
            return Fatal(connection, ProtocolErrorCode.DescriptorsLost, Invariant(
                $"the message declares {declared} descriptors, but none arrived with it (they must be attached to the frame's first byte)"));
        }
        if (batch.IsLost)
        {
            DiscardDescriptors(connection, declared);
            Refuse(connection, frame.Sequence, ProtocolErrorCode.DescriptorsLost, Invariant(
                $"the hub could not take the message's {declared} descriptors (MSG_CTRUNC: its descriptor table is full, EMFILE); the message was not routed"));
            return Outcome.Consumed;
        }
        if (batch.Count != declared)
        {
            return Fatal(connection, ProtocolErrorCode.InvalidFlags, Invariant(
                $"the message declares {declared} descriptors, but {batch.Count} arrived with it"));
        }
        if (declared > _options.MaxDescriptorsPerMessage)
        {
            DiscardDescriptors(connection, declared);
            Refuse(connection, frame.Sequence, ProtocolErrorCode.TooManyDescriptors, Invariant(
                $"the message carries {declared} descriptors, over the hub's limit (--max-fds-per-message {_options.MaxDescriptorsPerMessage})"));
            return Outcome.Consumed;
        }
        return null;
    }

    /// <summary>Closes the batch of a Publish that is refused (nothing when it declared none).</summary>
    private static void DiscardDescriptors(ClientConnection connection, int declared)
    {
        if (declared > 0 && connection.InboundDescriptors.TryTake(out DescriptorBatch batch))
        {
            batch.Dispose();
        }
    }

    private Outcome Stall(ClientConnection connection, Channel channel)
    {
        if (!ReferenceEquals(connection.StalledOn, channel))
        {
            connection.StalledOn = channel;
            List<ClientConnection> waiters = channel.Waiters ??= [];
            if (waiters.Count == 0)
            {
                _stalledChannels.Add(channel);
            }
            waiters.Add(connection);
            HubLog.PublisherStalled(_logger, connection.Id);
        }
        return Outcome.Stalled;
    }

    private void MarkBlocker(ClientConnection subscriber)
    {
        if (subscriber.FullSinceNs == 0)
        {
            subscriber.FullSinceNs = MonotonicClock.NowNs;
        }
        if (!subscriber.IsBlockerListed)
        {
            subscriber.IsBlockerListed = true;
            _blockers.Add(subscriber);
        }
    }

    /// <summary>Answers request <paramref name="requestId"/> with a non-fatal Error; the connection goes on.</summary>
    private void Refuse(ClientConnection connection, ulong requestId, ProtocolErrorCode code, string reason)
    {
        HubLog.RequestRefused(_logger, connection.Id, connection.Name, requestId, code, reason);
        connection.Outbound.EnqueueError(requestId, code, reason, fatal: false);
        MarkDirty(connection);
    }

    /// <summary>Sends a fatal Error (flushed best-effort) and closes the connection at the end of the batch.</summary>
    private Outcome Fatal(ClientConnection connection, ProtocolErrorCode code, string reason)
    {
        HubLog.ProtocolViolation(_logger, connection.Id, connection.Name, code, reason);
        connection.Outbound.EnqueueError(0, code, reason, fatal: true);
        RequestClose(connection, Invariant($"{code}: {reason}"));
        return Outcome.Closed;
    }

    // --- after each batch ------------------------------------------------------------------------

    /// <summary>Deadlines, stalled publishers, flushing and closing, until nothing more moves (bounded).</summary>
    private void Settle()
    {
        long now = MonotonicClock.NowNs;
        CheckDeadlines(now);
        for (int pass = 0; pass < MaxSettlePasses; pass++)
        {
            if (_retryStalls)
            {
                RetryStalls();
            }
            FlushDirty();
            ProcessPendingCloses();
            if (!_retryStalls)
            {
                break;
            }
        }
        if (_dropsPending && now - _lastDropLogNs >= DropLogIntervalNs)
        {
            LogDrops(now);
        }
    }

    private void CheckDeadlines(long now)
    {
        if (_listenerPaused && now >= _listenerRetryAtNs && _listener is not null)
        {
            _listenerPaused = false;
            _loop.Modify(_listenerToken, _listener.Handle, PollEvents.POLLIN);
        }
        for (int i = _handshaking.Count - 1; i >= 0; i--)
        {
            ClientConnection c = _handshaking[i];
            if (c.Welcomed || c.Closing || c.IsDisposed)
            {
                _handshaking.RemoveAt(i);
            }
            else if (now >= c.HandshakeDeadlineNs)
            {
                _handshaking.RemoveAt(i);
                _ = Fatal(c, ProtocolErrorCode.HandshakeRequired,
                    Invariant($"no Hello within {_options.HandshakeTimeout.TotalSeconds:0.###} s of connecting"));
            }
        }
        for (int i = _lingering.Count - 1; i >= 0; i--)
        {
            ClientConnection c = _lingering[i];
            if (now >= c.LingerUntilNs)
            {
                c.PeerGone = true; // no more waiting for it to read
                _pendingCloses.Add(c);
            }
        }
        for (int i = _blockers.Count - 1; i >= 0; i--)
        {
            ClientConnection subscriber = _blockers[i];
            if (subscriber.FullSinceNs == 0 || subscriber.Closing || subscriber.IsDisposed)
            {
                subscriber.IsBlockerListed = false;
                _blockers.RemoveAt(i);
                continue;
            }
            if (_options.SlowPolicy == SlowConsumerPolicy.Backpressure && now - subscriber.FullSinceNs >= _slowDeadlineNs)
            {
                subscriber.IsBlockerListed = false;
                _blockers.RemoveAt(i);
                DisconnectSlowConsumer(subscriber);
            }
        }
    }

    private void DisconnectSlowConsumer(ClientConnection subscriber)
    {
        OutboundQueue queue = subscriber.Outbound;
        string reason = Invariant(
            $"outbound queue full ({queue.Messages} messages, {queue.Bytes} bytes, {queue.QueuedDescriptors} descriptors; limits {queue.MaxMessages} messages, {queue.MaxBytes} bytes, {queue.MaxDescriptors} descriptors) for {_options.SlowDeadline.TotalSeconds:0.###} s");
        HubLog.SlowConsumer(_logger, subscriber.Id, subscriber.Name, reason);
        // The error must not wait behind what the client does not read.
        queue.DiscardUnsent();
        queue.EnqueueError(0, ProtocolErrorCode.SlowConsumer, reason, fatal: true);
        RequestClose(subscriber, "slow consumer: " + reason);
    }

    /// <summary>Gives stalled publishers (first waiter of each stalled channel) and self-stalled clients another go.</summary>
    private void RetryStalls()
    {
        _retryStalls = false;
        for (int i = 0; i < _resume.Count; i++)
        {
            ClientConnection c = _resume[i];
            if (!c.Closing && !c.IsDisposed && !c.SelfStalled)
            {
                try
                {
                    ProcessInbound(c);
                    c.ApplyInterest();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Failed(c, e);
                }
            }
        }
        _resume.Clear();

        for (int i = 0; i < _stalledChannels.Count; i++)
        {
            Channel channel = _stalledChannels[i];
            List<ClientConnection> waiters = channel.Waiters!;
            while (waiters.Count > 0)
            {
                ClientConnection publisher = waiters[0];
                if (publisher.SelfStalled)
                {
                    break; // resumes (and retries) when its own queue drains
                }
                try
                {
                    ProcessInbound(publisher);
                    if (waiters.Count > 0 && ReferenceEquals(waiters[0], publisher))
                    {
                        break; // still no room
                    }
                    publisher.ApplyInterest();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Failed(publisher, e);
                    break; // it leaves the waiters when it is closed
                }
            }
        }
        // Forget channels nobody waits for any more.
        int kept = 0;
        for (int i = 0; i < _stalledChannels.Count; i++)
        {
            if (_stalledChannels[i].Waiters!.Count > 0)
            {
                _stalledChannels[kept++] = _stalledChannels[i];
            }
        }
        _stalledChannels.RemoveRange(kept, _stalledChannels.Count - kept);
    }

    private void FlushDirty()
    {
        for (int i = 0; i < _dirty.Count; i++)
        {
            ClientConnection c = _dirty[i];
            c.IsDirty = false;
            if (!c.IsDisposed)
            {
                try
                {
                    Flush(c);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    c.PeerGone = true;
                    Failed(c, e);
                }
            }
        }
        _dirty.Clear();
    }

    private void Flush(ClientConnection connection)
    {
        OutboundQueue queue = connection.Outbound;
        bool progress = false;
        IClientDataPath path = connection.DataPath!;
        if (!connection.PeerGone)
        {
            try
            {
                if (path.HasPendingOutput)
                {
                    IoResult flushed = path.FlushOutput();
                    if (flushed.Status is IoStatus.PeerClosed or IoStatus.EndOfStream)
                    {
                        connection.PeerGone = true;
                        RequestClose(connection, "the client went away");
                    }
                }
                while (queue.HasPending && !path.HasPendingOutput && !connection.PeerGone)
                {
                    ReadOnlySpan<byte> pending = queue.NextWrite(out SharedDescriptors? attach);
                    if (attach is not null && path.Descriptors == DescriptorCarriage.Ahead)
                    {
                        // The batch goes ahead on the control socket, then the frame into the pipe. A full control
                        // socket (the client has not read that far) holds the stream up until it takes more.
                        IoResult ahead = path.SendDescriptorsAhead(attach.Handles);
                        if (ahead.Status == IoStatus.WouldBlock)
                        {
                            connection.AheadBlocked = true;
                            break;
                        }
                        if (ahead.Status != IoStatus.Success)
                        {
                            connection.PeerGone = true;
                            RequestClose(connection, "the client went away (its control socket is closed)");
                            break;
                        }
                        queue.DescriptorsSentAhead();
                        continue;
                    }
                    IoResult result = attach is null ? path.Write(pending) : path.WriteWithDescriptors(pending, attach.Handles);
                    if (result.Status == IoStatus.Success)
                    {
                        queue.Advance(result.BytesTransferred);
                        connection.BytesOut += result.BytesTransferred;
                        progress |= result.BytesTransferred > 0;
                        if (result.BytesTransferred < pending.Length)
                        {
                            break; // the peer's buffer is full: wait for POLLOUT
                        }
                    }
                    else if (result.Status == IoStatus.WouldBlock)
                    {
                        break;
                    }
                    else
                    {
                        connection.PeerGone = true;
                        RequestClose(connection, "the client went away (its socket is closed)");
                        break;
                    }
                }
            }
            catch (IpcException e)
            {
                connection.PeerGone = true;
                RequestClose(connection, "writing failed: " + e.Message);
            }
        }
        connection.WantWrite = (queue.HasPending || path.HasPendingOutput) && !connection.PeerGone && !connection.AheadBlocked;
        if (progress)
        {
            if (connection.FullSinceNs != 0)
            {
                _retryStalls = true; // room for the publishers it held up, perhaps
                if (!queue.HasPending)
                {
                    connection.FullSinceNs = 0;
                }
            }
            if (connection.SelfStalled && !queue.IsOverLimit)
            {
                connection.SelfStalled = false;
                _resume.Add(connection);
                _retryStalls = true;
            }
        }
        bool allOut = !queue.HasPending && !path.HasPendingOutput;
        if (_draining && allOut)
        {
            RequestClose(connection, "hub shutting down");
        }
        if (connection.LingerUntilNs != 0 && (allOut || connection.PeerGone))
        {
            _pendingCloses.Add(connection); // its last bytes are out (or cannot be): close it now
        }
        connection.ApplyInterest();
    }

    /// <summary>Whether bytes for the client wait in its queue or in its data path.</summary>
    private static bool HasOutput(ClientConnection connection)
        => connection.Outbound.HasPending || connection.DataPath?.HasPendingOutput == true;

    private void MarkDirty(ClientConnection connection)
    {
        if (!connection.IsDirty)
        {
            connection.IsDirty = true;
            _dirty.Add(connection);
        }
    }

    private void RequestClose(ClientConnection connection, string reason)
    {
        if (!connection.MarkClosing(reason))
        {
            return;
        }
        _pendingCloses.Add(connection);
        if (Router.RemoveClient(connection) || connection.StalledOn is not null)
        {
            _retryStalls = true;
        }
        connection.ApplyInterest();
    }

    private void ProcessPendingCloses()
    {
        for (int i = 0; i < _pendingCloses.Count; i++)
        {
            ClientConnection c = _pendingCloses[i];
            try
            {
                Teardown(c);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                HubLog.ConnectionFailed(_logger, c.Id, c.Name, e.Message, e is IpcException ? null : e);
                c.PeerGone = true;
                Finish(c); // whatever failed, the connection goes
            }
        }
        _pendingCloses.Clear();
    }

    /// <summary>
    /// Closes a connection marked for closing. What is still queued for it (typically the fatal Error or the
    /// Goodbye) gets one more non-blocking write; if some remains and the peer may still read, the connection
    /// lingers, out of every route and not read, until its output is written or <see cref="CloseLingerNs"/>
    /// passes, so a client whose socket buffer was full (a slow consumer) still learns why it was dropped.
    /// </summary>
    private void Teardown(ClientConnection connection)
    {
        if (connection.IsDisposed)
        {
            return;
        }
        if (connection.StalledOn is { } channel)
        {
            channel.Waiters!.Remove(connection);
            connection.StalledOn = null;
            _retryStalls = true;
        }
        Router.RemoveClient(connection);
        if (HasOutput(connection) && !connection.PeerGone)
        {
            Flush(connection);
            if (HasOutput(connection) && !connection.PeerGone && connection.LingerUntilNs == 0 && !_draining)
            {
                connection.LingerUntilNs = MonotonicClock.NowNs + CloseLingerNs;
                _lingering.Add(connection);
                return;
            }
            if (HasOutput(connection) && !connection.PeerGone && MonotonicClock.NowNs < connection.LingerUntilNs)
            {
                return; // still lingering; Flush or the linger deadline brings it back here
            }
        }
        Finish(connection);
    }

    /// <summary>Removes a connection from every list, logs its end and closes its descriptors.</summary>
    private void Finish(ClientConnection connection)
    {
        if (connection.IsDisposed)
        {
            return;
        }
        if (connection.StalledOn is { } channel)
        {
            channel.Waiters!.Remove(connection);
            connection.StalledOn = null;
            _retryStalls = true;
        }
        Router.RemoveClient(connection);
        _lingering.Remove(connection);
        int index = connection.ConnectionIndex;
        if (index >= 0)
        {
            int last = _connections.Count - 1;
            ClientConnection moved = _connections[last];
            _connections[index] = moved;
            moved.ConnectionIndex = index;
            _connections.RemoveAt(last);
            connection.ConnectionIndex = -1;
        }
        if (connection.Welcomed)
        {
            if (!connection.IsLocal)
            {
                _welcomed--;
            }
            HubLog.ClientDisconnected(_logger, connection.Id, connection.Name, connection.CloseReason ?? "closed", connection.Published,
                connection.Delivered, connection.Dropped, connection.BytesIn, connection.BytesOut);
        }
        else if (_logger.IsEnabled(LogLevel.Debug))
        {
            HubLog.ClientDisconnected(_logger, connection.Id, connection.Name, connection.CloseReason ?? "closed", 0, 0, 0,
                connection.BytesIn, connection.BytesOut);
        }
        connection.Dispose();
    }

    private void LogDrops(long now)
    {
        _dropsPending = false;
        _lastDropLogNs = now;
        foreach (ClientConnection c in _connections)
        {
            if (c.Dropped != c.DroppedLogged)
            {
                c.DroppedLogged = c.Dropped;
                HubLog.Dropped(_logger, c.Id, c.Name, c.Dropped);
            }
        }
    }

    private int ComputeTimeoutMs()
    {
        if (_retryStalls || _dirty.Count > 0 || _pendingCloses.Count > 0)
        {
            return 0; // Settle stopped after its pass limit with work left: look at new events, then go on
        }
        long next = long.MaxValue;
        if (_options.SlowPolicy == SlowConsumerPolicy.Backpressure)
        {
            foreach (ClientConnection b in _blockers)
            {
                if (b.FullSinceNs != 0)
                {
                    next = Math.Min(next, b.FullSinceNs + _slowDeadlineNs);
                }
            }
        }
        foreach (ClientConnection c in _lingering)
        {
            next = Math.Min(next, c.LingerUntilNs);
        }
        foreach (ClientConnection c in _handshaking)
        {
            if (!c.Welcomed && !c.Closing)
            {
                next = Math.Min(next, c.HandshakeDeadlineNs);
            }
        }
        if (_draining)
        {
            next = Math.Min(next, _drainDeadlineNs);
        }
        if (_listenerPaused)
        {
            next = Math.Min(next, _listenerRetryAtNs);
        }
        if (_dropsPending)
        {
            next = Math.Min(next, _lastDropLogNs + DropLogIntervalNs);
        }
        if (next == long.MaxValue)
        {
            return -1;
        }
        long left = next - MonotonicClock.NowNs;
        return left <= 0 ? 0 : (int)Math.Min(int.MaxValue, (left + 999_999) / 1_000_000);
    }

    // --- shutdown --------------------------------------------------------------------------------

    private void BeginDrain()
    {
        HubLog.StopRequested(_logger);
        _draining = true;
        _drainDeadlineNs = MonotonicClock.NowNs + (long)(_options.ShutdownTimeout.TotalMilliseconds * 1_000_000);
        CloseListener();
        HubLog.ShuttingDown(_logger, _connections.Count, (long)_options.ShutdownTimeout.TotalMilliseconds);
        foreach (Channel channel in _stalledChannels)
        {
            foreach (ClientConnection waiter in channel.Waiters!)
            {
                waiter.StalledOn = null;
            }
            channel.Waiters!.Clear();
        }
        _stalledChannels.Clear();
        foreach (ClientConnection b in _blockers)
        {
            b.IsBlockerListed = false;
            b.FullSinceNs = 0;
        }
        _blockers.Clear();
        foreach (ClientConnection c in _connections)
        {
            c.Draining = true;
            if (!c.Closing)
            {
                c.Outbound.EnqueueGoodbye("hub shutting down");
            }
            MarkDirty(c);
        }
    }

    private void FinishDrain()
    {
        if (_connections.Count > 0)
        {
            long bytes = 0;
            foreach (ClientConnection c in _connections)
            {
                bytes += c.Outbound.Bytes;
            }
            if (bytes > 0)
            {
                HubLog.ShutdownTimedOut(_logger, _connections.Count, bytes);
            }
            for (int i = _connections.Count - 1; i >= 0; i--)
            {
                ClientConnection c = _connections[i];
                c.MarkClosing("hub shutting down");
                c.PeerGone = true; // no more writes: the deadline passed
                Teardown(c);
            }
        }
        ProcessPendingCloses();
    }

    // --- helpers ---------------------------------------------------------------------------------

    private static string TransportName(TransportKind kind) => TransportNames.Of(kind);

    private static string Utf8(ReadOnlySpan<byte> bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
