using System.CommandLine;
using IpcCore.Cli;
using MyIpcBench.Model;

namespace MyIpcBench.Raw;

/// <summary><c>myipcbench worker raw ...</c>: one side of a raw-mechanism case (started by the orchestrator).</summary>
internal static class RawCommand
{
    private const long DefaultRingBytes = 1 << 20;

    public static Command Create()
    {
        var mechanism = new Option<string>("--mechanism") { Required = true, Description = "pipe, fifo, socket, mqueue or shm." };
        mechanism.AcceptOnlyFromAmong(Backends.Names);
        var role = new Option<string>("--role") { Required = true, Description = "send or recv (recv creates the objects)." };
        role.AcceptOnlyFromAmong("send", "recv");
        var mode = new Option<BenchMode>("--mode") { Required = true, Description = "throughput or latency." };
        var size = new Option<int>("--size") { Required = true, Description = "Bytes per message (at least 16)." };
        var count = new Option<long>("--count") { Required = true, Description = "Messages (latency: recorded round trips)." };
        var dir = new Option<string?>("--dir") { Description = "fifo, socket: the directory for the FIFOs and the socket." };
        var prefix = new Option<string?>("--prefix") { Description = "The case's unique object name, e.g. ipcbench.1234.7." };
        var wake = new Option<ShmWake>("--wake") { Description = "shm: futex or semaphore.", DefaultValueFactory = _ => ShmWake.Futex };
        var spin = new Option<int>("--spin-us") { Description = "shm: microseconds a waiting side spins before it sleeps (0: the ring's short default spin)." };
        var ringBytes = new Option<long>("--ring-bytes")
        {
            Description = "shm: data bytes of each ring (a power of two).",
            DefaultValueFactory = _ => DefaultRingBytes,
        };
        var warmup = new Option<int>("--warmup-ms")
        {
            Description = "How long the sender warms up (flagged messages, not measured) before the measured ones.",
            DefaultValueFactory = _ => (int)(Stamp.WarmupNs / 1_000_000),
        };
        var report = new Option<string>("--report") { Required = true, Description = "Where to write the JSON report." };
        var command = new Command("raw", "One side of a raw mechanism case, no hub (internal).")
        {
            mechanism, role, mode, size, count, dir, prefix, wake, spin, ringBytes, warmup, report,
        };
        command.SetAction(parseResult =>
        {
            var options = new RawOptions(
                Backends.Parse(parseResult.GetValue(mechanism)!),
                parseResult.GetValue(role) == "send" ? RawRole.Send : RawRole.Receive,
                parseResult.GetValue(mode),
                parseResult.GetValue(size),
                parseResult.GetValue(count),
                parseResult.GetValue(dir),
                parseResult.GetValue(prefix),
                parseResult.GetValue(wake),
                parseResult.GetValue(spin),
                parseResult.GetValue(ringBytes),
                parseResult.GetValue(report)!,
                parseResult.GetValue(warmup));
            return new RawWorker(options).Run();
        });
        return command;
    }
}
