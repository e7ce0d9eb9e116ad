using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.InteropServices;
using IpcCore;
using IpcCore.Hub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace MyIpcHub;

/// <summary>myipchub: parse the command line, build <see cref="HubOptions"/>, run a <see cref="HubServer"/>.</summary>
internal static class Program
{
    private const string Tool = "myipchub";
    private const int ExitOk = 0;
    private const int ExitRuntimeError = 1;
    private const int ExitUsage = 2;

    private static int Main(string[] args)
    {
        var defaults = new HubOptions();
        var dir = new Option<string?>("--dir")
        {
            Description = "The hub directory (default: $IPCHUB_DIR, else $XDG_RUNTIME_DIR/ipchub, else /tmp/ipchub-<uid>); created if missing.",
            HelpName = "DIR",
        };
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "trace, debug, information, warning, error, critical or none (log lines go to stderr). Default: information.",
            HelpName = "LEVEL",
            CustomParser = r => ParseLogLevel(r),
        };
        var groupAccess = new Option<bool>("--group-access")
        {
            Description = "Let the hub's group connect: directory 0750 and socket 0660 (default 0700 and 0600).",
        };
        var maxMessageSize = SizeOption("--max-message-size", "The largest message in bytes (suffixes K, KiB, M, MiB accepted).", defaults.MaxMessageSize);
        var maxClients = CountOption("--max-clients", "The most clients at once.", defaults.MaxClients);
        var maxChannels = CountOption("--max-channels", "The most channels the hub tracks.", defaults.MaxChannels);
        var maxSubscriptions = CountOption("--max-subscriptions", "The most subscriptions per client.", defaults.MaxSubscriptionsPerClient);
        var maxFdsPerMessage = CountOption("--max-fds-per-message", "The most file descriptors one message may carry (socket and pipe clients; at most 253).", defaults.MaxDescriptorsPerMessage);
        var maxFdsInFlight = CountOption("--max-fds-in-flight", "The most file descriptors the hub holds for one client (queued for it, or received and not yet routed); a message that would pass it waits or is dropped like one that does not fit the queue.", defaults.MaxDescriptorsInFlight);
        var queueMessages = CountOption("--queue-messages", "A client's outbound queue limit in messages.", defaults.QueueMessages);
        var queueBytes = SizeOption("--queue-bytes", "A client's outbound queue limit in bytes (at least one maximum-size frame; by default two, if that is more than 2 MiB). A full queue stalls publishers (or drops, per --slow-policy); keeping it small keeps a fast stream in the caches.", defaults.QueueBytes);
        var shmRingSize = SizeOption("--shm-ring-size", "The data bytes of each shared-memory ring, a power of two from 4 KiB to 1 GiB (two rings per shm client).", defaults.ShmRingSize);
        var slowPolicy = new Option<SlowConsumerPolicy>("--slow-policy")
        {
            Description = "When a subscriber's queue is full: backpressure (stall publishers; disconnect the subscriber after --slow-deadline), drop (skip it) or block (stall, no deadline). Default: backpressure.",
            HelpName = "backpressure|drop|block",
            CustomParser = r => ParsePolicy(r),
        };
        var shmWake = new Option<IpcCore.Rings.RingWakeMode>("--shm-wake")
        {
            Description = "How shared-memory rings sleep and wake: futex (futex words in the ring) or semaphore (named POSIX semaphores). Default: futex.",
            HelpName = "futex|semaphore",
            CustomParser = r => ParseShmWake(r),
        };
        var spinUs = new Option<int>("--spin-us")
        {
            Description = "How long the hub watches shared-memory rings before it sleeps, in microseconds (0 to 1000000). Spinning saves a wake-up per message while a stream flows (lower latency) and costs up to this much CPU after each burst. Default: 0 (sleep at once).",
            HelpName = "N",
            CustomParser = r =>
            {
                string text = Single(r);
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value > 1_000_000)
                {
                    r.AddError($"--spin-us: '{text}' is not a whole number from 0 to 1000000");
                    return 0;
                }
                return value;
            },
        };
        var mqDepth = CountOption("--mq-depth", "The depth of each per-client POSIX message queue (two per mqueue client; the unprivileged limit is /proc/sys/fs/mqueue/msg_max, 10 by default).", defaults.MessageQueueDepth);
        var mqMessageSize = SizeOption("--mq-message-size", "The message size of each per-client message queue (the unprivileged limit is /proc/sys/fs/mqueue/msgsize_max, 8192 by default); larger frames are split and reassembled.", defaults.MessageQueueMessageSize);
        var backends = new Option<IpcCore.Protocol.TransportKind[]>("--backends")
        {
            Description = "The transports to offer, comma-separated, from: pipe, fifo, socket, mqueue, shm. Default: all.",
            HelpName = "LIST",
            CustomParser = r => ParseBackends(r),
        };
        var noInbox = new Option<bool>("--no-inbox")
        {
            Description = "Do not create the inbox FIFO DIR/publish.fifo (where shell scripts write lines 'CHANNEL PAYLOAD').",
        };
        var children = ChildOption(HubChildRole.Publisher,
            "Run COMMAND (with /bin/sh -c) and publish each line of its stdout to CHANNEL. Repeatable. The hub ends its children when it stops.");
        var childSubs = ChildOption(HubChildRole.Subscriber,
            "Run COMMAND (with /bin/sh -c) and write each message of PATTERN to its stdin, one line per message. Repeatable.");
        var slowDeadline = SecondsOption("--slow-deadline", "How long a subscriber's queue may stay full under backpressure.", defaults.SlowDeadline);
        var shutdownTimeout = SecondsOption("--shutdown-timeout", "How long shutdown waits for queued output to reach the clients.", defaults.ShutdownTimeout);
        var handshakeTimeout = SecondsOption("--handshake-timeout", "How long a new connection may take to send Hello.", defaults.HandshakeTimeout);

        var root = new RootCommand(
            "The IpcCore message hub: clients connect to DIR/hub.sock, subscribe to channels and publish messages; the hub routes " +
            "each message to every subscriber. Stop it with SIGINT or SIGTERM; SIGUSR1 prints its GC counters (gen0=, allocated=) on stdout.\n\n" +
            "Exit codes: 0 clean shutdown, 1 runtime error (e.g. another hub is running on the directory, the socket cannot be bound), " +
            "2 usage error (unknown option or invalid value).")
        {
            dir, logLevel, groupAccess, maxMessageSize, maxClients, maxChannels, maxSubscriptions, maxFdsPerMessage, maxFdsInFlight, queueMessages, queueBytes,
            slowPolicy, slowDeadline, shutdownTimeout, handshakeTimeout, shmRingSize, shmWake, spinUs, mqDepth, mqMessageSize, noInbox, children, childSubs, backends,
        };

        root.Subcommands.Add(GcCommand.Create()); // myipchub gc [--dir DIR] [--dry-run]: GcCommand.cs

        root.SetAction(result =>
        {
            long messageSize = Value(result, maxMessageSize, defaults.MaxMessageSize);
            var options = new HubOptions
            {
                Directory = result.GetValue(dir),
                GroupAccess = result.GetValue(groupAccess),
                MaxMessageSize = (int)Math.Min(messageSize, int.MaxValue),
                MaxClients = Value(result, maxClients, defaults.MaxClients),
                MaxChannels = Value(result, maxChannels, defaults.MaxChannels),
                MaxSubscriptionsPerClient = Value(result, maxSubscriptions, defaults.MaxSubscriptionsPerClient),
                QueueMessages = Value(result, queueMessages, defaults.QueueMessages),
                QueueBytes = Value(result, queueBytes, HubOptions.DefaultQueueBytesFor((int)Math.Min(messageSize, int.MaxValue))),
                SlowPolicy = Value(result, slowPolicy, defaults.SlowPolicy),
                SlowDeadline = Value(result, slowDeadline, defaults.SlowDeadline),
                ShutdownTimeout = Value(result, shutdownTimeout, defaults.ShutdownTimeout),
                HandshakeTimeout = Value(result, handshakeTimeout, defaults.HandshakeTimeout),
                ShmRingSize = Value(result, shmRingSize, defaults.ShmRingSize),
                SharedMemoryWake = Value(result, shmWake, defaults.SharedMemoryWake),
                SpinWait = TimeSpan.FromTicks(result.GetValue(spinUs) * TimeSpan.TicksPerMicrosecond),
                MaxDescriptorsPerMessage = Value(result, maxFdsPerMessage, defaults.MaxDescriptorsPerMessage),
                MaxDescriptorsInFlight = Value(result, maxFdsInFlight, defaults.MaxDescriptorsInFlight),
                MessageQueueDepth = Value(result, mqDepth, defaults.MessageQueueDepth),
                MessageQueueMessageSize = (int)Math.Min(Value(result, mqMessageSize, defaults.MessageQueueMessageSize), int.MaxValue),
                Inbox = !result.GetValue(noInbox),
                Backends = result.GetValue(backends),
                Children = [.. result.GetValue(children) ?? [], .. result.GetValue(childSubs) ?? []],
            };
            string? problem = messageSize > int.MaxValue ? $"--max-message-size must be at most {int.MaxValue} bytes (got {messageSize})" : options.Validate();
            if (problem is not null)
            {
                Console.Error.WriteLine($"{Tool}: {problem}");
                Console.Error.WriteLine($"Try '{Tool} --help' for more information.");
                return ExitUsage;
            }
            return RunHub(options, Value(result, logLevel, LogLevel.Information));
        });
        // Parsed once every action is set: with a subcommand (gc), a root without an action would be an error.
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (ParseError error in parsed.Errors)
            {
                Console.Error.WriteLine($"{Tool}: {error.Message}");
            }
            Console.Error.WriteLine($"Try '{Tool} --help' for more information.");
            return ExitUsage;
        }
        return parsed.Invoke();
    }

    private static int RunHub(HubOptions options, LogLevel level)
    {
        using ILoggerFactory loggers = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        try
        {
            using var server = new HubServer(options, loggers);

            // Ctrl-C and SIGTERM: do not die, let the loop say goodbye and clean up (even when the signal
            // comes while the hub is still starting).
            using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; server.RequestStop(); });
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; server.RequestStop(); });
            // SIGUSR1: one line of the process's GC counters on stdout, so a benchmark (or an operator) can see
            // that the steady state allocates nothing: take one before and one after a run and compare.
            using var onUsr1 = PosixSignalRegistration.Create((PosixSignal)10, c =>
            {
                c.Cancel = true;
                PrintGcCounters(server);
            });
            server.Start();

            Console.Out.WriteLine($"IPC Hub started (pid {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)})");
            Console.Out.WriteLine($"Backends available: {string.Join(", ", server.TransportNames)}");
            Console.Out.WriteLine($"Listening for connections on {server.SocketPath}");
            Console.Out.Flush();

            server.Run();
            Console.Out.WriteLine("IPC Hub stopped");
            Console.Out.Flush();
            return ExitOk;
        }
        catch (Exception e) when (e is HubStartException or IpcException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{Tool}: {e.Message}");
            return ExitRuntimeError;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not an expected failure: one line here; the hub's log has the details.
            Console.Error.WriteLine($"{Tool}: internal error: {e.Message}");
            return ExitRuntimeError;
        }
    }

    private static void PrintGcCounters(HubServer server)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"gc: gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} allocated={GC.GetTotalAllocatedBytes(precise: true)} loop_allocated={server.LoopAllocatedBytes}");
        lock (Console.Out)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    // --- option helpers --------------------------------------------------------------------------

    private static IpcCore.Protocol.TransportKind[] ParseBackends(ArgumentResult r)
    {
        var kinds = new List<IpcCore.Protocol.TransportKind>();
        foreach (string name in Single(r).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IpcCore.Protocol.TransportKind? kind = name switch
            {
                "pipe" => IpcCore.Protocol.TransportKind.Pipe,
                "fifo" => IpcCore.Protocol.TransportKind.Fifo,
                "socket" => IpcCore.Protocol.TransportKind.Socket,
                "mqueue" => IpcCore.Protocol.TransportKind.MessageQueue,
                "shm" => IpcCore.Protocol.TransportKind.SharedMemory,
                _ => null,
            };
            if (kind is null)
            {
                r.AddError($"--backends: unknown backend '{name}' (use pipe, fifo, socket, mqueue, shm)");
                return [];
            }
            kinds.Add(kind.Value);
        }
        if (kinds.Count == 0)
        {
            r.AddError("--backends: name at least one backend");
        }
        return [.. kinds.Distinct()];
    }

    private static Option<HubChild[]> ChildOption(HubChildRole role, string description) => new(HubChild.OptionName(role))
    {
        Description = description,
        HelpName = role == HubChildRole.Publisher ? "CHANNEL=COMMAND" : "PATTERN=COMMAND",
        AllowMultipleArgumentsPerToken = false,
        CustomParser = r =>
        {
            var parsed = new List<HubChild>();
            foreach (var token in r.Tokens)
            {
                try
                {
                    parsed.Add(HubChild.Parse(role, token.Value));
                }
                catch (FormatException e)
                {
                    r.AddError(e.Message);
                }
            }
            return [.. parsed];
        },
    };

    private static Option<int> CountOption(string name, string description, int defaultValue) => new(name)
    {
        Description = $"{description} Default: {defaultValue.ToString(CultureInfo.InvariantCulture)}.",
        HelpName = "N",
        CustomParser = r =>
        {
            string text = Single(r);
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            {
                r.AddError($"{name}: '{text}' is not a positive whole number");
                return 0;
            }
            return value;
        },
    };

    private static Option<long> SizeOption(string name, string description, long defaultValue) => new(name)
    {
        Description = $"{description} Default: {defaultValue.ToString(CultureInfo.InvariantCulture)}.",
        HelpName = "BYTES",
        CustomParser = r =>
        {
            string text = Single(r);
            if (!IpcCore.Cli.ByteSizes.TryParse(text, out long value) || value < 1)
            {
                r.AddError($"{name}: '{text}' is not a size (bytes, or a number with K, KiB, M, MiB, G or GiB)");
                return 0;
            }
            return value;
        },
    };

    private static Option<TimeSpan> SecondsOption(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = $"{description} In seconds (fractions allowed). Default: {defaultValue.TotalSeconds.ToString(CultureInfo.InvariantCulture)}.",
        HelpName = "SECONDS",
        CustomParser = r =>
        {
            string text = Single(r);
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
                || double.IsNaN(seconds) || seconds > 86400)
            {
                r.AddError($"{name}: '{text}' is not a number of seconds (0 to 86400)");
                return TimeSpan.Zero;
            }
            return TimeSpan.FromSeconds(seconds);
        },
    };

    private static LogLevel ParseLogLevel(ArgumentResult r)
    {
        string text = Single(r);
        switch (text.ToLowerInvariant())
        {
            case "trace": return LogLevel.Trace;
            case "debug": return LogLevel.Debug;
            case "information" or "info": return LogLevel.Information;
            case "warning" or "warn": return LogLevel.Warning;
            case "error": return LogLevel.Error;
            case "critical": return LogLevel.Critical;
            case "none": return LogLevel.None;
            default:
                r.AddError($"--log-level: '{text}' is not one of trace, debug, information, warning, error, critical, none");
                return LogLevel.Information;
        }
    }

    private static SlowConsumerPolicy ParsePolicy(ArgumentResult r)
    {
        string text = Single(r);
        switch (text.ToLowerInvariant())
        {
            case "backpressure": return SlowConsumerPolicy.Backpressure;
            case "drop": return SlowConsumerPolicy.Drop;
            case "block": return SlowConsumerPolicy.Block;
            default:
                r.AddError($"--slow-policy: '{text}' is not one of backpressure, drop, block");
                return SlowConsumerPolicy.Backpressure;
        }
    }

    private static IpcCore.Rings.RingWakeMode ParseShmWake(ArgumentResult r)
    {
        string text = Single(r);
        switch (text.ToLowerInvariant())
        {
            case "futex": return IpcCore.Rings.RingWakeMode.Futex;
            case "semaphore": return IpcCore.Rings.RingWakeMode.Semaphore;
            default:
                r.AddError($"--shm-wake: '{text}' is not one of futex, semaphore");
                return IpcCore.Rings.RingWakeMode.Futex;
        }
    }

    /// <summary>The option's value, or <paramref name="fallback"/> when it was not given.</summary>
    private static T Value<T>(ParseResult result, Option<T> option, T fallback)
        => result.GetResult(option) is null ? fallback : result.GetValue(option)!;

    private static string Single(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : string.Empty;
}
