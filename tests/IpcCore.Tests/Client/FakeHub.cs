using System.Collections.Concurrent;
using System.Text;
using IpcCore.Native;
using IpcCore.Protocol;

namespace IpcCore.Tests.Client;

/// <summary>A frame the fake hub received.</summary>
internal sealed record ReceivedFrame(int Connection, FrameType Type, FrameFlags Flags, string Channel, ulong Sequence, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);
}

/// <summary>
/// An in-process stand-in for myipchub over a real UNIX socket in a test directory: Hello/Welcome,
/// Subscribe/Unsubscribe with Acks, Publish routed to every matching connection with per-channel sequence
/// numbers, the non-fatal PayloadTooLarge skip, Ping/Pong, Goodbye. Knobs let a test hold or reorder Acks,
/// refuse things, inject Data frames and stop the hub the way the real one shuts down. One thread accepts,
/// one per connection reads (blocking I/O; a test's hub lives a few seconds).
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private readonly UnixSocket _listener;
    private readonly Thread _acceptThread;
    private readonly List<Connection> _connections = [];
    private readonly Dictionary<string, ulong> _sequences = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly List<(Connection Connection, byte[] Frame)> _heldAcks = [];
    private volatile bool _stopping;
    private int _nextConnection;

    public FakeHub(string directory, int maxMessageSize = ProtocolLimits.DefaultMaxMessageSize)
    {
        Directory = directory;
        SocketPath = HubPaths.SocketPath(directory);
        MaxMessageSize = maxMessageSize;
        _listener = UnixSocket.CreateStream();
        _listener.Bind(SocketPath);
        _listener.Listen();
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "fake hub accept" };
        _acceptThread.Start();
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public int MaxMessageSize { get; }

    public int Pid { get; init; } = 4242;

    /// <summary>Answer Hello with this fatal Error instead of Welcome.</summary>
    public ProtocolErrorCode? RefuseHello { get; set; }

    /// <summary>A channel → the non-fatal error a Publish to it gets instead of routing.</summary>
    public Func<string, ProtocolErrorCode?> PublishError { get; set; } = _ => null;

    /// <summary>Keep Acks (of every request) until <see cref="ReleaseAcks"/>.</summary>
    public bool HoldAcks { get; set; }

    /// <summary>Never answer requests on these channels/patterns (a hub that died before answering).</summary>
    public Func<string, bool> Swallow { get; set; } = _ => false;

    /// <summary>Every frame received, in order.</summary>
    public ConcurrentQueue<ReceivedFrame> Received { get; } = new();

    public int ConnectionCount
    {
        get
        {
            lock (_gate)
            {
                return _connections.Count(c => !c.Closed);
            }
        }
    }

    /// <summary>Sends the held Acks, in reverse order when asked (a client must match them by id).</summary>
    public void ReleaseAcks(bool reverse = false)
    {
        List<(Connection Connection, byte[] Frame)> held;
        lock (_gate)
        {
            held = [.. _heldAcks];
            _heldAcks.Clear();
            HoldAcks = false;
        }
        if (reverse)
        {
            held.Reverse();
        }
        foreach ((Connection connection, byte[] frame) in held)
        {
            connection.Send(frame);
        }
    }

    /// <summary>Sends a Data frame with a chosen sequence number to every connection.</summary>
    public void InjectData(string channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        byte[] frame = Frame(FrameType.Data, FrameFlags.None, sequence, Encoding.UTF8.GetBytes(channel), payload);
        foreach (Connection c in Snapshot())
        {
            c.Send(frame);
        }
    }

    /// <summary>Sends a raw frame to every connection.</summary>
    public void SendToAll(byte[] frame)
    {
        foreach (Connection c in Snapshot())
        {
            c.Send(frame);
        }
    }

    /// <summary>Waits for a received frame matching <paramref name="match"/>.</summary>
    public ReceivedFrame WaitFor(Func<ReceivedFrame, bool> match, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            ReceivedFrame? found = Received.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }
            Thread.Sleep(5);
        }
        throw new TimeoutException($"the fake hub did not receive {what}; got: {string.Join(", ", Received.Select(f => f.Type))}");
    }

    /// <summary>Shuts down like the real hub: stops accepting, removes the socket, says Goodbye, closes everything.</summary>
    public void Stop(string goodbye = "hub shutting down")
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _acceptThread.Join(TimeSpan.FromSeconds(5));
        _listener.Dispose();
        File.Delete(SocketPath);
        byte[] frame = new byte[FrameHeader.Size + goodbye.Length];
        FrameWriter.WriteGoodbye(frame, goodbye);
        foreach (Connection c in Snapshot())
        {
            c.Send(frame);
            c.Close();
        }
        foreach (Connection c in Snapshot())
        {
            c.Join();
        }
    }

    /// <summary>Closes every connection abruptly (no Goodbye), keeping the listener.</summary>
    public void DropConnections()
    {
        foreach (Connection c in Snapshot())
        {
            c.Close();
            c.Join();
        }
    }

    public void Dispose() => Stop();

    private List<Connection> Snapshot()
    {
        lock (_gate)
        {
            return [.. _connections.Where(c => !c.Closed)];
        }
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            if (FileDescriptor.Poll(_listener.Handle, PollEvents.POLLIN, 20) == 0)
            {
                continue;
            }
            UnixSocket socket = _listener.Accept();
            var connection = new Connection(this, socket, Interlocked.Increment(ref _nextConnection));
            lock (_gate)
            {
                _connections.Add(connection);
            }
            connection.Start();
        }
    }

    private static byte[] Frame(FrameType type, FrameFlags flags, ulong sequence, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[FrameWriter.FrameLength(channel.Length, payload.Length)];
        FrameWriter.Write(frame, type, flags, sequence, channel, payload);
        return frame;
    }

    private static byte[] AckFrame(ulong id, int delivered, int notDelivered, ulong sequence)
    {
        byte[] frame = new byte[FrameHeader.Size + AckPayload.Size];
        FrameWriter.WriteAck(frame, id, new AckPayload(delivered, notDelivered, sequence));
        return frame;
    }

    private static byte[] ErrorFrame(ulong id, ProtocolErrorCode code, string reason, bool fatal)
    {
        byte[] frame = new byte[FrameWriter.ErrorFrameLength(reason)];
        FrameWriter.WriteError(frame, id, code, reason, fatal);
        return frame;
    }

    private void Answer(Connection connection, byte[] frame)
    {
        lock (_gate)
        {
            if (HoldAcks)
            {
                _heldAcks.Add((connection, frame));
                return;
            }
        }
        connection.Send(frame);
    }

    private void Handle(Connection connection, Frame frame)
    {
        string channel = Encoding.UTF8.GetString(frame.Channel);
        Received.Enqueue(new ReceivedFrame(connection.Id, frame.Type, frame.Flags, channel, frame.Sequence, frame.Payload.ToArray()));
        switch (frame.Type)
        {
            case FrameType.Hello:
                if (RefuseHello is { } refusal)
                {
                    connection.Send(ErrorFrame(0, refusal, $"refused by the fake hub ({refusal})", fatal: true));
                    connection.Close();
                    return;
                }
                HelloPayload.TryRead(frame.Payload, out HelloPayload hello, out _);
                connection.Name = hello.ClientName;
                byte[] welcome = new byte[WelcomePayload.Size];
                new WelcomePayload((ulong)connection.Id, MaxMessageSize, Pid, hello.Transport).Write(welcome);
                connection.Send(Frame(FrameType.Welcome, FrameFlags.None, 0, default, welcome));
                return;
            case FrameType.Subscribe:
                if (Swallow(channel))
                {
                    return;
                }
                int held;
                lock (_gate)
                {
                    connection.Patterns.Add(channel);
                    held = connection.Patterns.Count;
                }
                Answer(connection, AckFrame(frame.Sequence, held, 0, 0));
                return;
            case FrameType.Unsubscribe:
                bool removed;
                lock (_gate)
                {
                    removed = connection.Patterns.Remove(channel);
                    held = connection.Patterns.Count;
                }
                Answer(connection, removed
                    ? AckFrame(frame.Sequence, held, 0, 0)
                    : ErrorFrame(frame.Sequence, ProtocolErrorCode.NotSubscribed, $"not subscribed to '{channel}'", fatal: false));
                return;
            case FrameType.Publish:
                Publish(connection, frame, channel);
                return;
            case FrameType.Ping:
                connection.Send(Frame(FrameType.Pong, FrameFlags.None, frame.Sequence, default, default));
                return;
            case FrameType.Goodbye:
                connection.Close();
                return;
            default:
                connection.Send(ErrorFrame(frame.Sequence, ProtocolErrorCode.UnknownType, $"a client does not send {frame.Type}", fatal: true));
                connection.Close();
                return;
        }
    }

    private void Publish(Connection from, Frame frame, string channel)
    {
        if (Swallow(channel))
        {
            return;
        }
        if (PublishError(channel) is { } code)
        {
            from.Send(ErrorFrame(frame.Sequence, code, $"the fake hub refuses '{channel}'", fatal: false));
            return;
        }
        List<Connection> targets;
        ulong sequence;
        byte[] data;
        lock (_gate)
        {
            _sequences.TryGetValue(channel, out sequence);
            _sequences[channel] = ++sequence;
            byte[] name = frame.Channel.ToArray();
            targets = [.. _connections.Where(c => !c.Closed && c.Patterns.Any(p => ChannelName.Matches(Encoding.UTF8.GetBytes(p), name)))];
            data = Frame(FrameType.Data, FrameFlags.None, sequence, frame.Channel, frame.Payload);
        }
        foreach (Connection c in targets)
        {
            c.Send(data);
        }
        if ((frame.Flags & FrameFlags.NoAck) == 0)
        {
            Answer(from, AckFrame(frame.Sequence, targets.Count, 0, sequence));
        }
    }

    private sealed class Connection(FakeHub hub, UnixSocket socket, int id)
    {
        private readonly object _sendLock = new();
        private Thread? _thread;
        private volatile bool _closed;

        public int Id { get; } = id;

        public string? Name { get; set; }

        public HashSet<string> Patterns { get; } = new(StringComparer.Ordinal);

        public bool Closed => _closed;

        public void Start()
        {
            _thread = new Thread(ReadLoop) { IsBackground = true, Name = $"fake hub connection {Id}" };
            _thread.Start();
        }

        public void Send(byte[] frame)
        {
            lock (_sendLock)
            {
                if (_closed)
                {
                    return;
                }
                try
                {
                    socket.SendAll(frame);
                }
                catch (IpcException)
                {
                    // The client went away.
                }
            }
        }

        public void Close()
        {
            lock (_sendLock)
            {
                if (_closed)
                {
                    return;
                }
                _closed = true;
                try
                {
                    socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
                }
                catch (IpcException)
                {
                }
            }
        }

        public void Join()
        {
            if (_thread is not null && _thread != Thread.CurrentThread)
            {
                _thread.Join(TimeSpan.FromSeconds(5));
            }
        }

        private void ReadLoop()
        {
            byte[] buffer = new byte[256 * 1024];
            int start = 0;
            int end = 0;
            long skip = 0;
            var limits = new ProtocolLimits(hub.MaxMessageSize);
            try
            {
                while (!_closed)
                {
                    while (end > start)
                    {
                        if (skip > 0)
                        {
                            int n = (int)Math.Min(skip, end - start);
                            start += n;
                            skip -= n;
                            continue;
                        }
                        FrameParseResult result = FrameReader.TryParse(buffer.AsSpan(start, end - start), limits, out Frame frame,
                            out int needed, out ProtocolErrorCode code, out string? reason);
                        if (result == FrameParseResult.Complete)
                        {
                            hub.Handle(this, frame);
                            start += needed;
                            continue;
                        }
                        if (result == FrameParseResult.Invalid)
                        {
                            if (code == ProtocolErrorCode.PayloadTooLarge && frame.Type == FrameType.Publish)
                            {
                                Send(ErrorFrame(frame.Sequence, code, reason!, fatal: false));
                                skip = needed;
                                continue;
                            }
                            Send(ErrorFrame(0, code, reason!, fatal: true));
                            Close();
                            return;
                        }
                        if (needed > buffer.Length - start)
                        {
                            byte[] target = needed > buffer.Length ? new byte[needed] : buffer;
                            buffer.AsSpan(start, end - start).CopyTo(target);
                            end -= start;
                            start = 0;
                            buffer = target;
                        }
                        break;
                    }
                    if (start == end)
                    {
                        start = end = 0;
                    }
                    IoResult io = socket.TryReceive(buffer.AsSpan(end));
                    if (!io.IsSuccess)
                    {
                        break;
                    }
                    end += io.BytesTransferred;
                }
            }
            catch (IpcException)
            {
            }
            finally
            {
                Close();
                socket.Dispose();
            }
        }
    }
}
