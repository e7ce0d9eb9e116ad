using System.Globalization;
using IpcCore;
using IpcCore.Protocol;
using MyIpcBench.Model;
using MyIpcBench.Workers;

namespace MyIpcBench.Running;

/// <summary>
/// Runs one case with real processes: a hub and its clients (<c>myipcbench worker hub</c>), or the two sides of
/// a raw mechanism (<c>myipcbench worker raw</c>), each in a directory of its own under the run's directory.
/// Every process is ended by its pid when the case is over, whatever happened.
/// </summary>
internal sealed class CaseRunner(string self, string hub, string runDirectory, int warmupMilliseconds)
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_signalWait = TimeSpan.FromSeconds(5);

    private int _caseNumber;

    /// <summary>The name prefix of this run's raw objects in /dev/shm and the mq namespace.</summary>
    public string RawPrefix { get; } = string.Create(CultureInfo.InvariantCulture, $"ipcbench.{Environment.ProcessId}");

    public CaseMeasurement Run(BenchCase c, CancellationToken cancellationToken)
    {
        int number = ++_caseNumber;
        string directory = Path.Combine(runDirectory, number.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        var processes = new List<BenchProcess>();
        try
        {
            return c.Path == BenchPath.Hub
                ? RunHubCase(c, directory, processes, cancellationToken)
                : RunRawCase(c, directory, number, processes, cancellationToken);
        }
        catch (Exception ex) when (ex is IpcException or IOException or InvalidOperationException or TimeoutException
            or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return new CaseMeasurement(c) { Error = ex.Message };
        }
        finally
        {
            foreach (BenchProcess p in processes)
            {
                p.Dispose();
            }
            RemoveRawLeftovers(number);
        }
    }

    // --- through the hub ---------------------------------------------------------------------

    private CaseMeasurement RunHubCase(BenchCase c, string directory, List<BenchProcess> processes, CancellationToken cancellationToken)
    {
        string hubDirectory = Path.Combine(directory, "hub");
        BenchProcess hubProcess = BenchProcess.Start("myipchub", hub, HubArguments(c, hubDirectory), Path.Combine(directory, "hub"));
        processes.Add(hubProcess);
        string hubOut = Path.Combine(directory, "hub.out");
        WaitFor(() => File.Exists(hubOut) && File.ReadAllText(hubOut).Contains("Listening for connections", StringComparison.Ordinal),
            hubProcess, "the hub to listen", cancellationToken);

        int subscribers = c.Mode == BenchMode.Latency ? 1 : c.Subscribers;
        var subs = new List<BenchProcess>();
        for (int i = 0; i < subscribers; i++)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"sub{i}");
            BenchProcess sub = BenchProcess.Start(name, self,
                WorkerArguments(c, "sub", hubDirectory, Path.Combine(directory, name + ".json"), Path.Combine(directory, name + ".ready")),
                Path.Combine(directory, name));
            processes.Add(sub);
            subs.Add(sub);
        }
        for (int i = 0; i < subs.Count; i++)
        {
            string ready = Path.Combine(directory, subs[i].Name + ".ready");
            WaitFor(() => File.Exists(ready), subs[i], "a subscriber to subscribe", cancellationToken);
        }

        GcCounters? before = c.Mode == BenchMode.Throughput ? SnapshotGc(hubProcess, hubOut, 1, cancellationToken) : null;
        BenchProcess pub = BenchProcess.Start("pub", self, WorkerArguments(c, "pub", hubDirectory, Path.Combine(directory, "pub.json"), null),
            Path.Combine(directory, "pub"));
        processes.Add(pub);
        TimeSpan runTimeout = TimeSpan.FromMinutes(5);
        WaitForExit(pub, runTimeout, cancellationToken);
        foreach (BenchProcess sub in subs)
        {
            WaitForExit(sub, TimeSpan.FromSeconds(60), cancellationToken);
        }
        GcCounters? after = before is not null ? SnapshotGc(hubProcess, hubOut, 2, cancellationToken) : null;
        hubProcess.Stop(s_stopGrace);

        WorkerReport pubReport = ReadReport(directory, pub);
        var subReports = subs.Select(s => ReadReport(directory, s)).ToList();
        if (c.Mode == BenchMode.Latency)
        {
            return new CaseMeasurement(c) { OneWay = subReports[0].OneWay, RttHalf = pubReport.RttHalf };
        }
        CaseMeasurement m = Throughput(c, subReports);
        if (before is { } b && after is { } a)
        {
            // The hub routed the warm-up too: count the messages the publisher sent in all.
            long messages = Math.Max(1, pubReport.Messages + pubReport.WarmupMessages);
            m = m with { HubGen0Collections = a.Gen0 - b.Gen0, HubAllocatedBytesPerMessage = (double)(a.Allocated - b.Allocated) / messages };
        }
        return m;
    }

    private static List<string> HubArguments(BenchCase c, string hubDirectory)
    {
        List<string> args =
        [
            "--dir", hubDirectory, "--no-inbox", "--log-level", "warning",
            "--backends", c.TransportName,
        ];
        args.AddRange(["--spin-us", c.SpinMicroseconds.ToString(CultureInfo.InvariantCulture)]);
        if (c.Transport == TransportKind.SharedMemory)
        {
            args.AddRange(["--shm-wake", c.Wake == ShmWake.Futex ? "futex" : "semaphore"]);
        }
        if (c.Transport == TransportKind.MessageQueue)
        {
            // Two queues per client must fit RLIMIT_MSGQUEUE (800 KiB per user unless raised): smaller ones for a fan-out.
            int clients = c.Subscribers + 1;
            int messageSize = clients <= 4 ? 8192 : clients <= 9 ? 4096 : 1024;
            args.AddRange(["--mq-depth", "10", "--mq-message-size", messageSize.ToString(CultureInfo.InvariantCulture)]);
        }
        return args;
    }

    private List<string> WorkerArguments(BenchCase c, string role, string hubDirectory, string report, string? ready)
    {
        List<string> args =
        [
            "worker", "hub", "--role", role, "--backend", c.TransportName, "--dir", hubDirectory, "--channel", "bench",
            "--mode", c.Mode.ToString(), "--size", c.MessageSize.ToString(CultureInfo.InvariantCulture),
            "--count", c.Messages.ToString(CultureInfo.InvariantCulture),
            "--subscribers", (c.Mode == BenchMode.Latency ? 1 : c.Subscribers).ToString(CultureInfo.InvariantCulture),
            "--spin-us", c.SpinMicroseconds.ToString(CultureInfo.InvariantCulture), "--report", report,
            "--warmup-ms", warmupMilliseconds.ToString(CultureInfo.InvariantCulture),
        ];
        if (ready is not null)
        {
            args.AddRange(["--ready", ready]);
        }
        return args;
    }

    /// <summary>SIGUSR1 to the hub, then waits for its <paramref name="count"/>-th <c>gc:</c> line.</summary>
    private static GcCounters? SnapshotGc(BenchProcess hubProcess, string hubOut, int count, CancellationToken cancellationToken)
    {
        hubProcess.Signal(10);
        long deadline = Environment.TickCount64 + (long)s_signalWait.TotalMilliseconds;
        while (Environment.TickCount64 < deadline && !hubProcess.HasExited)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<GcCounters> lines = GcCounters.ReadAll(hubOut);
            if (lines.Count >= count)
            {
                return lines[count - 1];
            }
            Thread.Sleep(5);
        }
        return null;
    }

    // --- raw -------------------------------------------------------------------------------

    private CaseMeasurement RunRawCase(BenchCase c, string directory, int number, List<BenchProcess> processes, CancellationToken cancellationToken)
    {
        string prefix = string.Create(CultureInfo.InvariantCulture, $"{RawPrefix}.{number}");
        string recvReport = Path.Combine(directory, "recv.json");
        string sendReport = Path.Combine(directory, "send.json");
        BenchProcess recv, send;
        if (c.Transport == TransportKind.Pipe)
        {
            // The receiver reads pings on fd 0 and writes pongs on fd 1; the sender the other way round.
            (PipeEnd pingReader, PipeEnd pingWriter) = IpcCore.Pipe.Create();
            (PipeEnd pongReader, PipeEnd pongWriter) = IpcCore.Pipe.Create();
            using (pingReader)
            using (pingWriter)
            using (pongReader)
            using (pongWriter)
            {
                recv = BenchProcess.Start("recv", self, RawArguments(c, "recv", directory, prefix, recvReport), Path.Combine(directory, "recv"),
                    pingReader.Handle, pongWriter.Handle);
                processes.Add(recv);
                send = BenchProcess.Start("send", self, RawArguments(c, "send", directory, prefix, sendReport), Path.Combine(directory, "send"),
                    pongReader.Handle, pingWriter.Handle);
                processes.Add(send);
            }
        }
        else
        {
            recv = BenchProcess.Start("recv", self, RawArguments(c, "recv", directory, prefix, recvReport), Path.Combine(directory, "recv"));
            processes.Add(recv);
            send = BenchProcess.Start("send", self, RawArguments(c, "send", directory, prefix, sendReport), Path.Combine(directory, "send"));
            processes.Add(send);
        }
        WaitForExit(send, TimeSpan.FromMinutes(5), cancellationToken);
        WaitForExit(recv, TimeSpan.FromSeconds(60), cancellationToken);
        WorkerReport r = ReadReport(directory, recv);
        WorkerReport s = ReadReport(directory, send);
        return c.Mode == BenchMode.Latency
            ? new CaseMeasurement(c) { OneWay = r.OneWay, RttHalf = s.RttHalf }
            : Throughput(c, [r]);
    }

    private IEnumerable<string> RawArguments(BenchCase c, string role, string directory, string prefix, string report) =>
    [
        "--warmup-ms", warmupMilliseconds.ToString(CultureInfo.InvariantCulture),
        "worker", "raw", "--mechanism", c.TransportName, "--role", role, "--mode", c.Mode.ToString().ToLowerInvariant(),
        "--size", c.MessageSize.ToString(CultureInfo.InvariantCulture), "--count", c.Messages.ToString(CultureInfo.InvariantCulture),
        "--dir", directory, "--prefix", prefix, "--wake", c.Wake == ShmWake.Futex ? "futex" : "semaphore",
        "--spin-us", c.SpinMicroseconds.ToString(CultureInfo.InvariantCulture), "--report", report,
    ];

    /// <summary>Removes what a failed raw case may have left: its shm, semaphores and queues (names start with its prefix).</summary>
    private void RemoveRawLeftovers(int number)
    {
        string prefix = string.Create(CultureInfo.InvariantCulture, $"{RawPrefix}.{number}.");
        foreach (string dir in (string[])["/dev/shm", "/dev/mqueue"])
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (string file in Directory.EnumerateFiles(dir))
            {
                string name = Path.GetFileName(file);
                if (name.StartsWith(prefix, StringComparison.Ordinal) || name.StartsWith("sem." + prefix, StringComparison.Ordinal))
                {
                    File.Delete(file);
                }
            }
        }
    }

    // --- helpers -----------------------------------------------------------------------------

    /// <summary>Delivered throughput over all receivers: their bytes over the span from the first start to the last end.</summary>
    private static CaseMeasurement Throughput(BenchCase c, List<WorkerReport> receivers)
    {
        long first = receivers.Min(r => r.FirstNs);
        long last = receivers.Max(r => r.LastNs);
        long bytes = receivers.Sum(r => r.Bytes);
        long messages = receivers.Sum(r => r.Messages);
        double seconds = (last - first) / 1e9;
        if (seconds <= 0 || messages == 0)
        {
            return new CaseMeasurement(c) { Error = "the receivers reported no measured span" };
        }
        return new CaseMeasurement(c) { MsgsPerS = messages / seconds, MbPerS = bytes / seconds / 1e6 };
    }

    private static WorkerReport ReadReport(string directory, BenchProcess process)
    {
        WorkerReport? report = WorkerReportFile.TryRead(Path.Combine(directory, process.Name + ".json"));
        if (report is null)
        {
            throw new InvalidOperationException($"{process.Name} {process.DescribeExit()} without a report: {process.StderrTail()}");
        }
        if (report.Error is not null)
        {
            throw new InvalidOperationException($"{process.Name}: {report.Error}");
        }
        return report;
    }

    private static void WaitForExit(BenchProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!process.WaitForExit(TimeSpan.FromMilliseconds(50)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"{process.Name} (pid {process.Pid}) did not finish within {timeout.TotalSeconds:0} s");
            }
        }
    }

    private static void WaitFor(Func<bool> condition, BenchProcess process, string what, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)s_startTimeout.TotalMilliseconds;
        while (!condition())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} {process.DescribeExit()} while waiting for {what}: {process.StderrTail()}");
            }
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what} ({process.Name}, pid {process.Pid})");
            }
            Thread.Sleep(5);
        }
    }
}
