using System.Runtime.InteropServices;
using IpcCore.Hub.Transports;
using IpcCore.Native;

namespace IpcCore.Hub;

/// <summary>
/// One client, whatever its transport: identity (id, name, SO_PEERCRED), the inbound frame assembler,
/// the bounded outbound queue, its subscriptions, its flow-control state and its counters. Bytes move
/// through its <see cref="IClientDataPath"/>; the control socket stays open for the connection's life
/// (for the socket transport it is the data path too). Only the event-loop thread touches it.
/// </summary>
internal sealed class ClientConnection : IPollHandler, IDisposable
{
    private const int MaxRegistrations = 3;

    private readonly IConnectionEvents? _events;
    private readonly Registration[] _registrations = new Registration[MaxRegistrations];
    private int _registrationCount;
    private EventLoop? _loop;

    public ClientConnection(ulong id, UnixSocket? control, PeerCredentials peer, int maxFrameLength, int queueMessages, long queueBytes,
        IConnectionEvents? events = null, int maxDescriptorsInFlight = int.MaxValue)
    {
        Id = id;
        Control = control;
        Peer = peer;
        _events = events;
        Inbound = new FrameAssembler(maxFrameLength);
        Outbound = new OutboundQueue(queueMessages, queueBytes, maxDescriptorsInFlight);
        // Until Hello, frames come over the control socket.
        DataPath = control is null ? null : new SocketDataPath(control);
    }

    public ulong Id { get; }

    /// <summary>The name from Hello ("?" before it).</summary>
    public string Name { get; set; } = "?";

    /// <summary>Who connected (SO_PEERCRED at accept).</summary>
    public PeerCredentials Peer { get; }

    /// <summary>The control socket (null only in unit tests).</summary>
    public UnixSocket? Control { get; }

    /// <summary>Where frames are read and written (null only in unit tests).</summary>
    public IClientDataPath? DataPath { get; private set; }

    public FrameAssembler Inbound { get; }

    /// <summary>Descriptor batches received from the client and not yet claimed by a Publish (in arrival order).</summary>
    public DescriptorInbox InboundDescriptors { get; } = new();

    public OutboundQueue Outbound { get; }

    /// <summary>The patterns this client holds (UTF-8), in subscription order.</summary>
    public List<byte[]> Subscriptions { get; } = [];

    /// <summary>The position in the router's subscriber list, or -1.</summary>
    public int SubscriberIndex { get; set; } = -1;

    /// <summary>The position in the hub's connection list.</summary>
    public int ConnectionIndex { get; set; } = -1;

    /// <summary>Whether the client lives in the hub (the inbox FIFO, a child process's pipe).</summary>
    public bool IsLocal { get; init; }

    /// <summary>Whether Hello was answered with Welcome.</summary>
    public bool Welcomed { get; set; }

    /// <summary>When (CLOCK_MONOTONIC ns) the connection must have sent Hello.</summary>
    public long HandshakeDeadlineNs { get; set; }

    /// <summary>The frame length the assembler waits for (a header until one is in).</summary>
    public int Needed { get; set; } = Protocol.FrameHeader.Size;

    // --- flow control ----------------------------------------------------------------------------

    /// <summary>The channel this client's next Publish waits for (backpressure), or null.</summary>
    public Channel? StalledOn { get; set; }

    /// <summary>Whether this client's own outbound queue is over its limit, so its requests wait.</summary>
    public bool SelfStalled { get; set; }

    /// <summary>When (monotonic ns) a Data frame for this client first did not fit, while it keeps not fitting; 0 otherwise.</summary>
    public long FullSinceNs { get; set; }

    /// <summary>Whether it is in the hub's list of subscribers that held a publisher up.</summary>
    public bool IsBlockerListed { get; set; }

    /// <summary>Whether the hub is shutting down (nothing more is read).</summary>
    public bool Draining { get; set; }

    /// <summary>Whether the client's input ended (EOF).</summary>
    public bool InputEnded { get; set; }

    /// <summary>Whether the last write could not take everything (wait for POLLOUT).</summary>
    public bool WantWrite { get; set; }

    /// <summary>Whether descriptors to send ahead on the control socket did not fit (wait for its POLLOUT).</summary>
    public bool AheadBlocked { get; set; }

    /// <summary>Whether the connection is being closed (at the end of the current batch).</summary>
    public bool Closing { get; private set; }

    /// <summary>Why it is being closed.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Until when (monotonic ns) a closing connection waits for its last bytes to be taken; 0 when not lingering.</summary>
    public long LingerUntilNs { get; set; }

    /// <summary>Whether writing is pointless (the peer is gone).</summary>
    public bool PeerGone { get; set; }

    /// <summary>Whether it is in the hub's list of connections to flush after this batch.</summary>
    public bool IsDirty { get; set; }

    public bool IsDisposed { get; private set; }

    /// <summary>Whether reading (and processing frames) is paused.</summary>
    public bool ReadPaused => StalledOn is not null || SelfStalled || Closing || InputEnded || Draining;

    // --- counters --------------------------------------------------------------------------------

    public long Published { get; set; }

    public long Delivered { get; set; }

    public long Dropped { get; set; }

    public long DroppedLogged { get; set; }

    public long BytesIn { get; set; }

    public long BytesOut { get; set; }

    /// <summary>Marks the connection for closing; false when it already was.</summary>
    public bool MarkClosing(string reason)
    {
        if (Closing)
        {
            return false;
        }
        Closing = true;
        CloseReason = reason;
        return true;
    }

    /// <summary>Registers the data path's handles (and the control socket, when separate) with <paramref name="loop"/>.</summary>
    public void Register(EventLoop loop)
    {
        _loop = loop;
        RebuildRegistrations();
        ApplyInterest();
    }

    /// <summary>Switches to the data path the client's transport created (after Hello).</summary>
    public void SwitchDataPath(IClientDataPath path)
    {
        if (ReferenceEquals(path, DataPath))
        {
            return;
        }
        IClientDataPath? old = DataPath;
        bool sameHandles = old is not null && ReferenceEquals(old.ReadHandle, path.ReadHandle) && ReferenceEquals(old.WriteHandle, path.WriteHandle);
        DataPath = path;
        old?.Dispose();
        if (!sameHandles && _loop is not null)
        {
            UnregisterAll();
            RebuildRegistrations();
            ApplyInterest();
        }
    }

    /// <summary>
    /// Brings every registration's events in line with the state: POLLIN while reading is not paused,
    /// POLLOUT while output waits for room. A handle that hung up while it has nothing to wait for is taken
    /// out of the set (level-triggered epoll would otherwise report the hang-up on every wait) and put back
    /// when reading resumes.
    /// </summary>
    public void ApplyInterest()
    {
        if (_loop is null || IsDisposed)
        {
            return;
        }
        bool read = !ReadPaused;
        bool write = WantWrite && !PeerGone;
        for (int i = 0; i < _registrationCount; i++)
        {
            ref Registration r = ref _registrations[i];
            PollEvents desired = 0;
            if (r.Read && read)
            {
                desired |= PollEvents.POLLIN;
            }
            if (r.Write && write)
            {
                desired |= PollEvents.POLLOUT;
            }
            if (r.Control && AheadBlocked && !PeerGone)
            {
                desired |= PollEvents.POLLOUT;
            }
            if (r.Doorbell)
            {
                // The doorbell is always listened to: it is drained in its handler, and the loop polls the rings.
                desired = PollEvents.POLLIN;
            }
            if (r.HungUp && desired == 0)
            {
                if (r.Registered)
                {
                    _loop.Unregister(r.Token, r.Handle);
                    r.Registered = false;
                }
                continue;
            }
            if (!r.Registered)
            {
                r.Token = _loop.Register(r.Handle, desired, this, i);
                r.Registered = true;
                r.Events = desired;
            }
            else if (r.Events != desired)
            {
                _loop.Modify(r.Token, r.Handle, desired);
                r.Events = desired;
            }
        }
    }

    /// <summary>What the registration with <paramref name="tag"/> is for.</summary>
    public (bool Read, bool Write, bool ControlOnly) RolesOf(int tag)
    {
        ref Registration r = ref _registrations[tag];
        return (r.Read, r.Write, !r.Read && !r.Write);
    }

    /// <summary>Records that the handle of registration <paramref name="tag"/> reported POLLHUP or POLLERR.</summary>
    public bool IsDoorbell(int tag) => _registrations[tag].Doorbell;

    public void MarkHungUp(int tag) => _registrations[tag].HungUp = true;

    public void OnPollEvents(PollEvents events, int tag) => _events?.OnConnectionEvents(this, events, tag);

    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }
        IsDisposed = true;
        UnregisterAll();
        DataPath?.Dispose();
        Control?.Dispose();
        Inbound.Dispose();
        InboundDescriptors.Dispose();
        Outbound.Dispose();
    }

    public override string ToString() => $"client {Id} '{Name}'";

    private void UnregisterAll()
    {
        if (_loop is null)
        {
            return;
        }
        for (int i = 0; i < _registrationCount; i++)
        {
            ref Registration r = ref _registrations[i];
            if (r.Registered)
            {
                _loop.Unregister(r.Token, r.Handle);
                r.Registered = false;
            }
        }
        _registrationCount = 0;
    }

    private void RebuildRegistrations()
    {
        _registrationCount = 0;
        if (DataPath is null)
        {
            return;
        }
        if (DataPath is IPolledDataPath { UsesDoorbell: true })
        {
            _registrations[_registrationCount++] = new Registration { Handle = DataPath.ReadHandle, Doorbell = true };
        }
        else
        {
            AddRole(DataPath.ReadHandle, read: true, write: false);
            AddRole(DataPath.WriteHandle, read: false, write: true);
        }
        if (Control is not null && !DataPath.SharesControlSocket)
        {
            // Liveness (POLLHUP/POLLERR are reported even with no events asked for), and room for descriptors sent ahead.
            AddRole(Control.Handle, read: false, write: false);
            _registrations[_registrationCount - 1].Control = true;
        }
    }

    private void AddRole(SafeHandle handle, bool read, bool write)
    {
        for (int i = 0; i < _registrationCount; i++)
        {
            if (ReferenceEquals(_registrations[i].Handle, handle))
            {
                _registrations[i].Read |= read;
                _registrations[i].Write |= write;
                return;
            }
        }
        _registrations[_registrationCount++] = new Registration { Handle = handle, Read = read, Write = write };
    }

    private struct Registration
    {
        public SafeHandle Handle;
        public long Token;
        public PollEvents Events;
        public bool Registered;
        public bool Read;
        public bool Write;
        public bool HungUp;
        public bool Doorbell;
        public bool Control;
    }
}

/// <summary>The hub side of a connection's poll events.</summary>
internal interface IConnectionEvents
{
    void OnConnectionEvents(ClientConnection connection, PollEvents events, int tag);
}
