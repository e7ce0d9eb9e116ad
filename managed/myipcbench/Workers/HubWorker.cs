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

    private readonly byte[] _payload = new byte[settings.MessageSize];
    private readonly ManualResetEventSlim _done = new();
    private readonly LatencyRecorder _latency = new((int)Math.Min(settings.Count, 10_000_000));
    private HubClient? _client;
    private long _expected;
    private long _received;
    private long _firstNs;
    private long _lastNs;
    private long _sentNs;
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
        long total = settings.Warmup + settings.Count;
        if (settings.Mode == BenchMode.Latency)
        {
            await client.SubscribeAsync(settings.PongChannel, OnPong, cancellationToken).ConfigureAwait(false);
            (int gen0, long allocated) = Counters();
            Stamp.Write(_payload, 0);
            _sentNs = Stamp.SentNs(_payload);
            client.PublishAndForget(settings.PingChannel, _payload);
            Wait(cancellationToken);
            return Report("pub", gen0, allocated) with { RttHalf = _latency.Summarize() };
        }

        (int g0, long a0) = Counters();
        long first = Stamp.NowNs();
        for (long sequence = 0; sequence < total; sequence++)
        {
            Stamp.Write(_payload, sequence);
            client.PublishAndForget(settings.Channel, _payload);
            if (_error is not null)
            {
                break;
            }
        }
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
        _received = total;
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
        if (!Check(payload))
        {
            return;
        }
        if (_expected == settings.Warmup + 1)
        {
            _firstNs = Stamp.SentNs(payload); // the first measured message's send time
        }
        if (_expected > settings.Warmup)
        {
            _received++;
        }
        if (_expected == settings.Warmup + settings.Count)
        {
            _lastNs = Stamp.NowNs();
            _done.Set();
        }
    }

    /// <summary>Latency echo: one-way time, then the same bytes back.</summary>
    private void OnPing(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        long now = Stamp.NowNs();
        if (!Check(payload))
        {
            return;
        }
        if (_expected > settings.Warmup)
        {
            _latency.Record(now - Stamp.SentNs(payload));
            _received++;
        }
        _client!.PublishAndForget(settings.PongChannel, payload);
        if (_expected == settings.Warmup + settings.Count)
        {
            _done.Set();
        }
    }

    /// <summary>Latency publisher: RTT/2 of this round trip, then the next ping from the receive thread.</summary>
    private void OnPong(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        long now = Stamp.NowNs();
        if (!Check(payload))
        {
            return;
        }
        if (_expected > settings.Warmup)
        {
            _latency.Record((now - _sentNs) / 2);
            _received++;
            if (_firstNs == 0)
            {
                _firstNs = _sentNs;
            }
        }
        if (_expected == settings.Warmup + settings.Count)
        {
            _lastNs = now;
            _done.Set();
            return;
        }
        Stamp.Write(_payload, _expected);
        _sentNs = Stamp.SentNs(_payload);
        _client!.PublishAndForget(settings.PingChannel, _payload);
    }

    /// <summary>Checks the sequence number; a gap or a reordering ends the run with an error.</summary>
    private bool Check(ReadOnlySpan<byte> payload)
    {
        long sequence = payload.Length >= Stamp.Size ? Stamp.Sequence(payload) : -1;
        if (payload.Length != settings.MessageSize || sequence != _expected)
        {
            Fail($"message {_expected} expected, got sequence {sequence} of {payload.Length} bytes");
            return false;
        }
        _expected++;
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
        Bytes = _received * settings.MessageSize,
        FirstNs = _firstNs,
        LastNs = _lastNs,
        Gen0Collections = GC.CollectionCount(0) - gen0,
        AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false) - allocated,
        Error = _error,
    };
}
