using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IpcCore.Cli;
using MyIpcBench.Model;

namespace MyIpcBench.Raw;

/// <summary>
/// One side of a raw case: opens the mechanism, runs the throughput stream or the ping-pong, and writes
/// the <see cref="WorkerReport"/>. Failures (also a stalled peer, found by a watchdog, and SIGTERM/SIGINT)
/// become a report with <see cref="WorkerReport.Error"/>, a stderr line and exit code 1; the objects'
/// names are removed in every case. Nothing is written to stdout (it is the pipe mechanism's pong pipe).
/// </summary>
internal sealed class RawWorker(RawOptions options)
{
    // The in-band waits (first message, ring waits) give up after RawTimeouts.Peer with a precise
    // message; the watchdog, for plain blocking calls, a little later.
    private static readonly TimeSpan s_stallLimit = RawTimeouts.Peer + TimeSpan.FromSeconds(2);

    private RawMechanism? _mechanism;
    private long _progress; // messages through the ping direction so far, read by the watchdog
    private int _finished;  // 1 once some thread reports the outcome

    public int Run()
    {
        string? problem = options.Problem();
        if (problem is not null)
        {
            _finished = 1;
            Publish(Failed(problem));
            return ExitCodes.UsageError;
        }

        using RawMechanism mechanism = RawMechanism.Create(options);
        Volatile.Write(ref _mechanism, mechanism);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var watchdog = new ProgressWatchdog(() => Volatile.Read(ref _progress), s_stallLimit, OnStall);
        WorkerReport report;
        try
        {
            mechanism.Open();
            report = (options.Role, options.Mode) switch
            {
                (RawRole.Send, BenchMode.Throughput) => SendThroughput(mechanism.Output!),
                (RawRole.Send, _) => Ping(mechanism.Output!, mechanism.Input!),
                (RawRole.Receive, BenchMode.Throughput) => ReceiveThroughput(mechanism),
                _ => Pong(mechanism),
            };
        }
        catch (Exception ex) // whatever failed, the orchestrator gets a report and exit code 1
        {
            report = Failed(Describe(ex));
        }
        finally
        {
            watchdog.Dispose();
        }
        report = RemoveNames(mechanism, report);
        // Already claimed: the watchdog or a signal reported, and the process is ending.
        return TryClaimReport() ? Publish(report) : ExitCodes.RuntimeError;
    }

    /// <summary>
    /// Throughput, sending side: flagged warm-up messages for the warm-up time (the runtime optimises hot code
    /// after ~0.2 s; the hub side warms up the same way), then the measured ones, one send per message.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private WorkerReport SendThroughput(MessageSink sink)
    {
        long count = options.Count;
        Span<byte> message = NewPayload();
        long warmupEnd = Stamp.NowNs() + options.WarmupNs;
        long warm = 0;
        for (; warm < RawOptions.MinWarmup || Stamp.NowNs() < warmupEnd; warm++)
        {
            Stamp.Write(message, warm | Stamp.WarmupFlag);
            sink.Send(message);
            Volatile.Write(ref _progress, warm + 1);
        }
        GcCounters start = GcCounters.Now();
        long firstNs = Stamp.NowNs();
        for (long i = 0; i < count; i++)
        {
            Stamp.Write(message, i);
            sink.Send(message);
            Volatile.Write(ref _progress, warm + i + 1);
        }
        long lastNs = Stamp.NowNs();
        return Measured(count, warm, firstNs, lastNs, start, GcCounters.Now());
    }

    /// <summary>Throughput, receiving side: the warm-up, then the measured messages timed from the first one's arrival.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private WorkerReport ReceiveThroughput(RawMechanism mechanism)
    {
        long count = options.Count;
        MessageSource source = mechanism.Input!;
        long warm = SkipWarmup(mechanism, out ReadOnlySpan<byte> first);
        long firstNs = Stamp.NowNs();
        CheckSequence(first, 0);
        Volatile.Write(ref _progress, warm + 1);
        GcCounters start = GcCounters.Now();
        for (long i = 1; i < count; i++)
        {
            ReadOnlySpan<byte> message = source.Next();
            if (Stamp.Sequence(message) != i)
            {
                ThrowOutOfSequence(message, i);
            }
            Volatile.Write(ref _progress, warm + i + 1);
        }
        long lastNs = Stamp.NowNs();
        return Measured(count, warm, firstNs, lastNs, start, GcCounters.Now());
    }

    /// <summary>Reads the flagged warm-up messages (checked in order); returns how many, with the first measured message.</summary>
    private long SkipWarmup(RawMechanism mechanism, out ReadOnlySpan<byte> first)
    {
        MessageSource source = mechanism.Input!;
        long warm = 0;
        while (true)
        {
            ReadOnlySpan<byte> message = source.Next();
            if (warm == 0)
            {
                mechanism.OnFirstMessage(); // may open the return path (fifo), so before the first echo
            }
            if ((Stamp.Sequence(message) & Stamp.WarmupFlag) == 0)
            {
                first = message;
                return warm;
            }
            if (Stamp.Sequence(message) != (warm | Stamp.WarmupFlag))
            {
                ThrowOutOfSequence(message, warm | Stamp.WarmupFlag);
            }
            warm++;
            Volatile.Write(ref _progress, warm);
            if (options.HasPong)
            {
                mechanism.Output!.Send(message);
            }
        }
    }

    /// <summary>Latency, sending side: stamp, send, wait for the echo; RTT/2 from the send time (after a warm-up).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private WorkerReport Ping(MessageSink ping, MessageSource pong)
    {
        var rttHalf = new LatencyRecorder(checked((int)options.Count));
        Span<byte> message = NewPayload();
        long warmupEnd = Stamp.NowNs() + options.WarmupNs;
        long warm = 0;
        for (; warm < RawOptions.MinWarmup || Stamp.NowNs() < warmupEnd; warm++)
        {
            Stamp.Write(message, warm | Stamp.WarmupFlag);
            ping.Send(message);
            CheckSequence(pong.Next(), warm | Stamp.WarmupFlag);
            Volatile.Write(ref _progress, warm + 1);
        }
        GcCounters start = GcCounters.Now();
        long firstNs = 0;
        for (long i = 0; i < options.Count; i++)
        {
            Stamp.Write(message, i);
            long sentNs = Stamp.SentNs(message);
            ping.Send(message);
            ReadOnlySpan<byte> echo = pong.Next();
            long nowNs = Stamp.NowNs();
            if (Stamp.Sequence(echo) != i)
            {
                ThrowOutOfSequence(echo, i);
            }
            rttHalf.Record((nowNs - sentNs) / 2);
            if (i == 0)
            {
                firstNs = sentNs;
            }
            Volatile.Write(ref _progress, warm + i + 1);
        }
        long lastNs = Stamp.NowNs();
        GcCounters end = GcCounters.Now();
        return Measured(options.Count, warm, firstNs, lastNs, start, end) with { RttHalf = rttHalf.Summarize() };
    }

    /// <summary>Latency, echoing side: one-way latency from the stamp, then the same bytes back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private WorkerReport Pong(RawMechanism mechanism)
    {
        var oneWay = new LatencyRecorder(checked((int)options.Count));
        MessageSource ping = mechanism.Input!;
        long warm = SkipWarmup(mechanism, out ReadOnlySpan<byte> first);
        long arrivalNs = Stamp.NowNs();
        CheckSequence(first, 0);
        MessageSink pong = mechanism.Output!;
        GcCounters start = GcCounters.Now();
        long firstNs = Stamp.SentNs(first);
        oneWay.Record(arrivalNs - firstNs);
        pong.Send(first);
        Volatile.Write(ref _progress, warm + 1);
        for (long i = 1; i < options.Count; i++)
        {
            ReadOnlySpan<byte> message = ping.Next();
            long nowNs = Stamp.NowNs();
            if (Stamp.Sequence(message) != i)
            {
                ThrowOutOfSequence(message, i);
            }
            oneWay.Record(nowNs - Stamp.SentNs(message));
            pong.Send(message);
            Volatile.Write(ref _progress, warm + i + 1);
        }
        long lastNs = Stamp.NowNs();
        GcCounters end = GcCounters.Now();
        return Measured(options.Count, warm, firstNs, lastNs, start, end) with { OneWay = oneWay.Summarize() };
    }

    /// <summary>A payload of the case's size: room for the stamp, then fixed bytes.</summary>
    private byte[] NewPayload()
    {
        byte[] payload = new byte[options.MessageSize];
        for (int i = Stamp.Size; i < payload.Length; i++)
        {
            payload[i] = (byte)i;
        }
        return payload;
    }

    private WorkerReport Measured(long messages, long warmup, long firstNs, long lastNs, GcCounters start, GcCounters end) => new()
    {
        Role = options.RoleName,
        Messages = messages,
        WarmupMessages = warmup,
        Bytes = messages * options.MessageSize,
        FirstNs = firstNs,
        LastNs = lastNs,
        Gen0Collections = end.Gen0 - start.Gen0,
        AllocatedBytes = end.Allocated - start.Allocated,
    };

    private WorkerReport Failed(string error)
    {
        long done = Volatile.Read(ref _progress);
        return new WorkerReport { Role = options.RoleName, Messages = done, Bytes = done * options.MessageSize, Error = error };
    }

    private string Describe(Exception ex)
    {
        long done = Volatile.Read(ref _progress);
        return done == 0 ? ex.Message : string.Create(CultureInfo.InvariantCulture, $"{ex.Message} (after {done} messages, warm-up included, of {options.Count} measured)");
    }

    /// <summary>Removes the case's names; a failure to do so fails a run that had succeeded.</summary>
    private static WorkerReport RemoveNames(RawMechanism mechanism, WorkerReport report)
    {
        try
        {
            mechanism.RemoveNames();
            return report;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return report.Error is null ? report with { Error = ex.Message } : report;
        }
    }

    /// <summary>Whether this thread is the one that reports the outcome (the main thread, the watchdog or a signal handler: first come).</summary>
    private bool TryClaimReport() => Interlocked.Exchange(ref _finished, 1) == 0;

    /// <summary>Writes the report, prints the error if any, and returns the exit code.</summary>
    private int Publish(WorkerReport report)
    {
        string? error = report.Error;
        try
        {
            Workers.WorkerReportFile.Write(options.ReportPath, report);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            string cannot = $"cannot write the report '{options.ReportPath}': {ex.Message}";
            error = error is null ? cannot : $"{error}; {cannot}";
        }
        if (error is null)
        {
            return ExitCodes.Success;
        }
        Console.Error.WriteLine($"myipcbench: {error}");
        return ExitCodes.RuntimeError;
    }

    /// <summary>
    /// From another thread (watchdog, signal), while the main thread may be stuck in a call: removes the
    /// names and reports <paramref name="error"/>, unless the main thread reported first.
    /// </summary>
    private bool FailFromOutside(string error)
    {
        if (!TryClaimReport())
        {
            return false;
        }
        WorkerReport report = Failed(error);
        if (Volatile.Read(ref _mechanism) is { } mechanism)
        {
            report = RemoveNames(mechanism, report);
        }
        Publish(report);
        return true;
    }

    private void OnStall(long progress)
    {
        if (FailFromOutside(string.Create(CultureInfo.InvariantCulture,
            $"no progress for {s_stallLimit.TotalSeconds:F0} s after {progress} messages (warm-up included; {options.Count} measured): the peer is stuck or gone")))
        {
            // The main thread is blocked in the mechanism for good.
            Environment.Exit(ExitCodes.RuntimeError);
        }
    }

    // Not cancelled: the default action (ending the process) follows once the names are gone.
    private void OnSignal(PosixSignalContext context) => FailFromOutside($"stopped by {context.Signal}");

    private static void CheckSequence(ReadOnlySpan<byte> message, long expected)
    {
        if (Stamp.Sequence(message) != expected)
        {
            ThrowOutOfSequence(message, expected);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfSequence(ReadOnlySpan<byte> message, long expected)
        => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"message {expected} carries sequence {Stamp.Sequence(message)}: lost, duplicated or reordered"));

    /// <summary>The GC figures the report gives for the measured part.</summary>
    private readonly record struct GcCounters(int Gen0, long Allocated)
    {
        public static GcCounters Now() => new(GC.CollectionCount(0), GC.GetAllocatedBytesForCurrentThread());
    }
}
