using IpcCore.Client;
using MyIpcBench.Model;

namespace MyIpcBench.Workers;

/// <summary>
/// A client of a hub case. Throughput: the publisher streams stamped messages with PublishAndForget; each
/// subscriber checks every sequence number and times the stream from the first measured message's stamp to
/// its last receive. Latency: the publisher pings CHANNEL.ping, the subscriber records the one-way time and
/// echoes to CHANNEL.pong from its handler, and the publisher records RTT/2 and sends the next ping from its
/// own handler, so no thread hand-off is measured.
/// </summary>
internal sealed class HubWorker(HubWorkerSettings settings) : IDisposable
{
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(5);

    private const long MinWarmup = 100;

    private readonly byte[] _payload = new byte[settings.MessageSize];
    private readonly ManualResetEventSlim _done = new();
    private readonly LatencyRecorder _latency = new((int)Math.Min(settings.Count, 10_000_000));
    private HubClient? _client;
    private long _expected;
    private long _received;
    private long _firstNs;
    private long _lastNs;
    private long _sentNs;
    private long _warmupEndNs;
    private long _warm;
    private int _synced;
    private string? _error;

    public async Task<WorkerReport> RunAsync(CancellationToken cancellationToken)
    {
        var options = new HubClientOptions
        {
            Directory = settings.Directory,
            Transport = settings.Transport,
            Reconnect = false,
            ClientName = $"bench-{settings.Role}-{Environment.ProcessId}",
            SpinWait = TimeSpan.FromTicks(settings.SpinMicroseconds * TimeSpan.TicksPerMicrosecond),
        };
        _client = await HubClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        await using (_client.ConfigureAwait(false))
        {
            _client.StateChanged += (_, e) =>
            {
                if (e.State == HubConnectionState.Closed)
                {
                    Fail($"the connection to the hub was lost: {e.Error?.Message ?? "closed"}");
                }
            };
            _client.MessagesMissed += (_, e) => Fail($"{e.Count} messages missed on '{e.Channel}'");
            return settings.Role == "pub" ? await PublishAsync(cancellationToken).ConfigureAwait(false)
                : await SubscribeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<WorkerReport> PublishAsync(CancellationToken cancellationToken)
    {
        HubClient client = _client!;
        if (settings.Mode == BenchMode.Latency)
        {
            await client.SubscribeAsync(settings.PongChannel, OnPong, cancellationToken).ConfigureAwait(false);
            (int gen0, long allocated) = Counters();
            _warmupEndNs = Stamp.NowNs() + settings.WarmupNs;
            SendPing();
            Wait(cancellationToken);
            return Report("pub", gen0, allocated) with { RttHalf = _latency.Summarize() };
        }

        // Warm-up: flagged sequence numbers, for a while; the last one asks every subscriber to answer, and the
        // measured stream starts once all have (with the queues drained).
        await client.SubscribeAsync(settings.SyncChannel, OnSynced, cancellationToken).ConfigureAwait(false);
        long warmupEnd = Stamp.NowNs() + settings.WarmupNs;
        for (; _warm < MinWarmup || Stamp.NowNs() < warmupEnd; _warm++)
        {
            Stamp.Write(_payload, _warm | Stamp.WarmupFlag);
            client.PublishAndForget(settings.Channel, _payload);
        }
        Stamp.Write(_payload, _warm++ | Stamp.WarmupFlag | Stamp.WarmupEndFlag);
        client.PublishAndForget(settings.Channel, _payload);
        Wait(cancellationToken);
        if (_error is not null)
        {
            return Report("pub", 0, 0);
        }
        _done.Reset();
        (int g0, long a0) = Counters();
        long first = Stamp.NowNs();
        for (long sequence = 0; sequence < settings.Count; sequence++)
        {
            Stamp.Write(_payload, sequence);
            client.PublishAndForget(settings.Channel, _payload);
            if (_error is not null)
            {
                break;
            }
        }
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
        _received = settings.Count;
        _firstNs = first;
        _lastNs = Stamp.NowNs();
        return Report("pub", g0, a0);
    }

    private async Task<WorkerReport> SubscribeAsync(CancellationToken cancellationToken)
    {
        HubClient client = _client!;
        string channel = settings.Mode == BenchMode.Latency ? settings.PingChannel : settings.Channel;
        await client.SubscribeAsync(channel, settings.Mode == BenchMode.Latency ? OnPing : OnMessage, cancellationToken).ConfigureAwait(false);
        (int gen0, long allocated) = Counters();
        if (settings.ReadyPath is not null)
        {
            await File.WriteAllTextAsync(settings.ReadyPath, "ready", cancellationToken).ConfigureAwait(false);
        }
        Wait(cancellationToken);
        WorkerReport report = Report("sub", gen0, allocated);
        return settings.Mode == BenchMode.Latency ? report with { OneWay = _latency.Summarize() } : report;
    }

    /// <summary>Throughput subscriber: every message must be the next one.</summary>
    private void OnMessage(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        if (!Check(payload, out bool measured))
        {
            return;
        }
        if (!measured)
        {
            if ((Stamp.Sequence(payload) & Stamp.WarmupEndFlag) != 0)
            {
                _client!.PublishAndForget(settings.SyncChannel, payload[..Stamp.Size]);
            }
            return;
        }
        if (_received++ == 0)
        {
            // From the first measured message's arrival: the warm-up's backlog in the queues is not counted.
            _firstNs = Stamp.NowNs();
        }
        if (_received == settings.Count)
        {
            _lastNs = Stamp.NowNs();
            _done.Set();
        }
    }

    /// <summary>Publisher: a subscriber has received the whole warm-up.</summary>
    private void OnSynced(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        if (++_synced == settings.Subscribers)
        {
            _done.Set();
        }
    }

    /// <summary>Latency echo: one-way time, then the same bytes back.</summary>
    private void OnPing(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        long now = Stamp.NowNs();
        if (!Check(payload, out bool measured))
        {
            return;
        }
        if (measured)
        {
            _latency.Record(now - Stamp.SentNs(payload));
            _received++;
        }
        _client!.PublishAndForget(settings.PongChannel, payload);
        if (_received == settings.Count)
        {
            _done.Set();
        }
    }

    /// <summary>Latency publisher: RTT/2 of this round trip, then the next ping from the receive thread.</summary>
    private void OnPong(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        long now = Stamp.NowNs();
        if (!Check(payload, out bool measured))
        {
            return;
        }
        if (measured)
        {
            _latency.Record((now - _sentNs) / 2);
            if (_received++ == 0)
            {
                _firstNs = _sentNs;
            }
            if (_received == settings.Count)
            {
                _lastNs = now;
                _done.Set();
                return;
            }
        }
        SendPing();
    }

    /// <summary>The next ping: a warm-up one until the warm-up time is over, then the measured ones.</summary>
    private void SendPing()
    {
        bool warming = _expected == 0 && (_warm < MinWarmup || Stamp.NowNs() < _warmupEndNs);
        Stamp.Write(_payload, warming ? _warm | Stamp.WarmupFlag : _expected);
        _sentNs = Stamp.SentNs(_payload);
        _client!.PublishAndForget(settings.PingChannel, _payload);
    }

    /// <summary>Checks the sequence number (warm-up ones, then measured ones, each in order); a gap or a reordering ends the run.</summary>
    private bool Check(ReadOnlySpan<byte> payload, out bool measured)
    {
        long sequence = payload.Length >= Stamp.Size ? Stamp.Sequence(payload) & ~Stamp.WarmupEndFlag : -1;
        measured = sequence >= 0 && (sequence & Stamp.WarmupFlag) == 0;
        long expected = measured ? _expected : _warm | Stamp.WarmupFlag;
        if (payload.Length != settings.MessageSize || sequence != expected || (!measured && _expected != 0))
        {
            Fail($"message {(measured ? _expected : _warm)} {(measured ? "" : "(warm-up) ")}expected, got sequence {sequence & ~Stamp.WarmupFlag} of {payload.Length} bytes");
            return false;
        }
        if (measured)
        {
            _expected++;
        }
        else
        {
            _warm++;
        }
        return true;
    }

    private void Fail(string error)
    {
        _error ??= error;
        _done.Set();
    }

    private void Wait(CancellationToken cancellationToken)
    {
        if (!_done.Wait(s_runTimeout, cancellationToken))
        {
            Fail($"timed out after {s_runTimeout.TotalSeconds} s with {_received} of {settings.Count} messages");
        }
    }

    public void Dispose() => _done.Dispose();

    private static (int Gen0, long Allocated) Counters() => (GC.CollectionCount(0), GC.GetTotalAllocatedBytes(precise: false));

    private WorkerReport Report(string role, int gen0, long allocated) => new()
    {
        Role = role,
        Messages = _received,
        WarmupMessages = _warm,
        Bytes = _received * settings.MessageSize,
        FirstNs = _firstNs,
        LastNs = _lastNs,
        Gen0Collections = GC.CollectionCount(0) - gen0,
        AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false) - allocated,
        Error = _error,
    };
}
