using System.CommandLine;
using System.Globalization;
using System.Text;
using IpcCore.Client;
using IpcCore.Protocol;

namespace IpcCore.Cli;

/// <summary>The options every client tool has: --dir, --backend, --name, --connect-timeout.</summary>
public sealed class CommonOptions
{
    private const int MaxNameBytes = HelloPayload.MaxNameLength;

    public Option<string?> Directory { get; } = new("--dir")
    {
        Description = "The hub directory (default: $IPCHUB_DIR, else $XDG_RUNTIME_DIR/ipchub, else /tmp/ipchub-<uid>).",
        HelpName = "DIR",
    };

    public Option<string> Backend { get; } = CreateBackend();

    public Option<string?> Name { get; } = new("--name")
    {
        Description = "The client name the hub shows (default: <tool>-<pid>).",
        HelpName = "NAME",
    };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout")
    {
        Description = "How long to wait for a hub that is not up yet, in seconds.",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 5,
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Directory);
        command.Options.Add(Backend);
        command.Options.Add(Name);
        command.Options.Add(ConnectTimeout);
    }

    /// <summary>The client options the command line asks for.</summary>
    /// <exception cref="UsageException">An option value is unusable, or the backend is not available yet.</exception>
    public HubClientOptions ToClientOptions(ParseResult parseResult, bool reconnect)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        TransportKind transport = Backends.Parse(parseResult.GetValue(Backend) ?? "socket");
        if (!HubClient.IsTransportAvailable(transport))
        {
            throw new UsageException($"the '{parseResult.GetValue(Backend)}' backend is not available yet");
        }
        double seconds = parseResult.GetValue(ConnectTimeout);
        if (double.IsNaN(seconds) || seconds < 0 || seconds > 86_400)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--connect-timeout must be between 0 and 86400 seconds, not {seconds}"));
        }
        var options = new HubClientOptions
        {
            Directory = parseResult.GetValue(Directory),
            Transport = transport,
            ConnectTimeout = TimeSpan.FromSeconds(seconds),
            Reconnect = reconnect,
        };
        string? name = parseResult.GetValue(Name);
        if (name is not null)
        {
            int bytes = Encoding.UTF8.GetByteCount(name);
            if (bytes is 0 or > MaxNameBytes || name.Any(char.IsControl))
            {
                throw new UsageException($"--name must be 1 to {MaxNameBytes} bytes of UTF-8 without control characters");
            }
            options.ClientName = name;
        }
        return options;
    }

    /// <summary>Connects and prints <c>Connected to hub via UNIX socket</c>.</summary>
    public static async Task<HubClient> ConnectAsync(CliTool tool, HubClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        HubClient client = await HubClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        tool.Status($"Connected to hub via {Backends.Describe(client.Transport)}");
        return client;
    }

    private static Option<string> CreateBackend()
    {
        var option = new Option<string>("--backend")
        {
            Description = "The transport to the hub: socket (UNIX socket, default), fifo (a FIFO pair in the hub directory), mqueue (a pair of POSIX message queues), shm (shared-memory rings) or pipe (anonymous pipes passed over the socket). Clients of every transport share channels.",
            HelpName = "socket|fifo|mqueue|shm|pipe",
            DefaultValueFactory = _ => "socket",
        };
        option.AcceptOnlyFromAmong(Backends.Names);
        return option;
    }
}
