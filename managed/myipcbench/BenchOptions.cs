using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using IpcCore.Cli;
using IpcCore.Protocol;
using MyIpcBench.Model;

namespace MyIpcBench;

/// <summary>The command line of myipcbench.</summary>
internal sealed class BenchOptions
{
    /// <summary>The largest message a case may use (the hub's default maximum message size is 1 MiB).</summary>
    public const int MaxMessageSize = 1 << 20;

    private readonly Option<long?> _iterations = new("--iterations")
    {
        Description = "Messages per throughput case (default: 1000000, fewer where a case would take over ~10 s).",
        HelpName = "N",
    };

    private readonly Option<long?> _roundTrips = new("--round-trips")
    {
        Description = "Round trips per latency case (default: 20000, or --iterations if smaller).",
        HelpName = "N",
    };

    private readonly Option<string> _sizes = new("--message-size")
    {
        Description = "Payload sizes in bytes, comma-separated (16 to 1048576), e.g. 64,1024,65536. Default: 1024.",
        HelpName = "LIST",
        DefaultValueFactory = _ => "1024",
    };

    private readonly Option<string> _backends = new("--backends")
    {
        Description = "Transports, comma-separated, from: shm, socket, mqueue, fifo, pipe. Default: all.",
        HelpName = "LIST",
        DefaultValueFactory = _ => "shm,socket,mqueue,fifo,pipe",
    };

    private readonly Option<string> _subscribers = new("--subscribers")
    {
        Description = "Subscribers of the hub cases (fan-out 1→N), comma-separated, e.g. 1,8. Raw cases are 1→1. Default: 1.",
        HelpName = "LIST",
        DefaultValueFactory = _ => "1",
    };

    private readonly Option<string> _mode = new("--mode")
    {
        Description = "throughput, latency or both (default).",
        HelpName = "MODE",
        DefaultValueFactory = _ => "both",
    };

    private readonly Option<string> _path = new("--path")
    {
        Description = "hub (publisher → hub → subscribers), raw (the bare mechanism between two processes) or both (default; gives the hub/raw ratio).",
        HelpName = "PATH",
        DefaultValueFactory = _ => "both",
    };

    private readonly Option<string> _shmWake = new("--shm-wake")
    {
        Description = "shm wake-up mechanisms to measure, comma-separated: futex, semaphore. Default: both.",
        HelpName = "LIST",
        DefaultValueFactory = _ => "futex,semaphore",
    };

    private readonly Option<string> _spin = new("--spin-us")
    {
        Description = "Spin settings to measure every transport with, in µs, comma-separated: how long the hub (myipchub --spin-us) and the clients (HubClientOptions.SpinWait) busy-poll before they sleep; 0 = sleep at once (shm: after a short spin). Raw cases spin only on shm. Default: 0,50.",
        HelpName = "LIST",
        DefaultValueFactory = _ => "0,50",
    };

    private readonly Option<int> _warmup = new("--warmup-ms")
    {
        Description = "How long each case warms up before it measures, in ms (the runtime optimises hot code after ~0.2 s). Default: 500.",
        HelpName = "MS",
        DefaultValueFactory = _ => (int)(Stamp.WarmupNs / 1_000_000),
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the results as one JSON array on stdout instead of the table.",
    };

    private readonly Option<bool> _csv = new("--csv")
    {
        Description = "Print the results as CSV on stdout instead of the table.",
    };

    private readonly Option<string?> _chart = new("--chart")
    {
        Description = "Also draw throughput and latency per transport and size into this PNG file.",
        HelpName = "FILE.png",
    };

    private readonly Option<bool> _noProgress = new("--no-progress")
    {
        Description = "No live progress display (it is drawn on stderr when stderr is a terminal; otherwise one line per case).",
    };

    private readonly Option<string?> _hub = new("--hub")
    {
        Description = "The myipchub program (default: beside myipcbench, then bin/ of the repository, then PATH).",
        HelpName = "PATH",
    };

    private readonly Option<double> _caseSeconds = new("--case-seconds")
    {
        Description = "Without --iterations, cases are shortened to stay under about this many seconds. Default: 10.",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 10,
    };

    public void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (Option option in (Option[])[_iterations, _roundTrips, _sizes, _backends, _subscribers, _mode, _path, _shmWake, _spin,
            _warmup, _json, _csv, _chart, _noProgress, _hub, _caseSeconds])
        {
            root.Options.Add(option);
        }
    }

    /// <exception cref="UsageException">A value is invalid (the message names the option).</exception>
    public BenchSettings Read(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        long? iterations = parseResult.GetValue(_iterations);
        if (iterations is < 1)
        {
            throw new UsageException($"--iterations must be at least 1, not {iterations}");
        }
        long? roundTrips = parseResult.GetValue(_roundTrips);
        if (roundTrips is < 1)
        {
            throw new UsageException($"--round-trips must be at least 1, not {roundTrips}");
        }
        string mode = parseResult.GetValue(_mode)!;
        string path = parseResult.GetValue(_path)!;
        if (mode is not ("throughput" or "latency" or "both"))
        {
            throw new UsageException($"--mode must be throughput, latency or both, not '{mode}'");
        }
        if (path is not ("hub" or "raw" or "both"))
        {
            throw new UsageException($"--path must be hub, raw or both, not '{path}'");
        }
        bool json = parseResult.GetValue(_json), csv = parseResult.GetValue(_csv);
        if (json && csv)
        {
            throw new UsageException("--json and --csv both print on stdout: choose one");
        }
        double caseSeconds = parseResult.GetValue(_caseSeconds);
        if (!(caseSeconds is >= 0.1 and <= 3600))
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--case-seconds must be between 0.1 and 3600, not {caseSeconds}"));
        }
        int warmup = parseResult.GetValue(_warmup);
        if (warmup is < 0 or > 60_000)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--warmup-ms must be between 0 and 60000, not {warmup}"));
        }
        return new BenchSettings
        {
            WarmupMilliseconds = warmup,
            Iterations = iterations,
            RoundTrips = roundTrips,
            MessageSizes = ParseList("--message-size", parseResult.GetValue(_sizes)!, s => ParseInt("--message-size", s, Stamp.Size, MaxMessageSize)),
            Backends = ParseList("--backends", parseResult.GetValue(_backends)!, ParseBackend),
            Subscribers = ParseList("--subscribers", parseResult.GetValue(_subscribers)!, s => ParseInt("--subscribers", s, 1, 64)),
            ShmWakes = ParseList("--shm-wake", parseResult.GetValue(_shmWake)!, ParseWake),
            Spins = ParseList("--spin-us", parseResult.GetValue(_spin)!, s => ParseInt("--spin-us", s, 0, 1_000_000)),
            Throughput = mode != "latency",
            Latency = mode != "throughput",
            Hub = path != "raw",
            Raw = path != "hub",
            Json = json,
            Csv = csv,
            ChartPath = parseResult.GetValue(_chart),
            Progress = !parseResult.GetValue(_noProgress) && !Console.IsErrorRedirected,
            HubPath = parseResult.GetValue(_hub),
            CaseBudget = TimeSpan.FromSeconds(caseSeconds),
        };
    }

    private static List<T> ParseList<T>(string option, string text, Func<string, T> parse)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).Distinct().ToList();
        if (items.Count == 0)
        {
            throw new UsageException($"{option} needs at least one value");
        }
        return items;
    }

    private static int ParseInt(string option, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{option}: '{text}' is not a whole number from {min} to {max}"));
        }
        return value;
    }

    private static TransportKind ParseBackend(string text) => text switch
    {
        "shm" => TransportKind.SharedMemory,
        "socket" => TransportKind.Socket,
        "mqueue" => TransportKind.MessageQueue,
        "fifo" => TransportKind.Fifo,
        "pipe" => TransportKind.Pipe,
        _ => throw new UsageException($"--backends: '{text}' is not one of shm, socket, mqueue, fifo, pipe"),
    };

    private static ShmWake ParseWake(string text) => text switch
    {
        "futex" => ShmWake.Futex,
        "semaphore" => ShmWake.Semaphore,
        _ => throw new UsageException($"--shm-wake: '{text}' is not one of futex, semaphore"),
    };
}
