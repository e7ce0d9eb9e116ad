using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using IpcCore.Cli;

namespace MyIpcFd;

/// <summary>The command line of myipcfd: the demos, and the hidden helper commands it starts itself.</summary>
internal sealed class FdOptions
{
    /// <summary>The transfer demo's default size.</summary>
    public const long DefaultSize = 100L << 20;

    /// <summary>The largest transfer: both processes hold the bytes in one array.</summary>
    public const long MaxSize = 1L << 30;

    public static readonly string[] TransportNames = ["socket", "pipe"];

    public Option<string?> Directory { get; } = new("--dir")
    {
        Description = "Use the hub running on DIR. Default: start a myipchub of its own in a new temporary directory (ended with SIGTERM and removed at the end).",
        HelpName = "DIR",
        Recursive = true,
    };

    public Option<string> Transport { get; } = CreateTransport();

    public Option<string?> Hub { get; } = new("--hub")
    {
        Description = "The myipchub program to start (default: beside myipcfd, in bin/ of its repository, then on PATH).",
        HelpName = "PATH",
        Recursive = true,
    };

    /// <summary>0 when not given (then <see cref="DefaultSize"/>).</summary>
    public Option<long> Size { get; } = CreateSize("--size", required: false,
        "How many bytes to transfer (bytes, or a number with K, KiB, M, MiB, G or GiB; at most 1 GiB). Default: 100MiB.");

    // --- the hidden helpers ------------------------------------------------------------------

    public Option<string> Channel { get; } = new("--channel") { Required = true, Description = "The channel the descriptor comes on." };

    public Option<string> FilePath { get; } = new("--path") { Required = true, Description = "The file to try to open by path." };

    public Option<string> Expect { get; } = new("--expect") { Required = true, Description = "The text the file holds." };

    public Option<string> Prefix { get; } = new("--prefix") { Required = true, Description = "The channels' prefix: PREFIX.fd, PREFIX.copy, PREFIX.reply." };

    public Option<long> ReceiverSize { get; } = CreateSize("--size", required: true, "How many bytes come.");

    public Command Permissions { get; } = new("permissions",
        "A file nobody may open any more (chmod 000, held open read-only by this process) is read by another process " +
        "through the descriptor it gets through the hub; its open by path fails with EACCES (a root reader drops to nobody first).");

    public Command Transfer { get; } = new("transfer",
        "Moves --size bytes to another process twice: as one sealed memfd descriptor (which the receiver checks and maps " +
        "read-only), and copied through the hub in messages of about 1 MiB; prints time and throughput of each.");

    public Command Reader { get; } = new("reader", "The reader of the permissions demo (started by myipcfd itself).") { Hidden = true };

    public Command Receiver { get; } = new("receiver", "The receiver of the transfer demo (started by myipcfd itself).") { Hidden = true };

    public RootCommand CreateRoot()
    {
        var root = new RootCommand(
            "Demonstrates passing open file descriptors through the IpcCore hub (SCM_RIGHTS). With no command it runs both " +
            "demos, permissions then transfer (with the default size). Each demo starts its helper process itself (this " +
            "program again) and talks to it only through the hub.\n\n" + ExitCodes.HelpText)
        {
            Directory,
            Transport,
            Hub,
        };
        Transfer.Options.Add(Size);
        Reader.Options.Add(Channel);
        Reader.Options.Add(FilePath);
        Reader.Options.Add(Expect);
        Receiver.Options.Add(Prefix);
        Receiver.Options.Add(ReceiverSize);
        root.Subcommands.Add(Permissions);
        root.Subcommands.Add(Transfer);
        root.Subcommands.Add(Reader);
        root.Subcommands.Add(Receiver);
        // The commands have no actions of their own: CliRunner runs the one action (with signal handling and
        // error printing), which looks at the command that was parsed. The root needs one to run alone.
        root.SetAction(_ => ExitCodes.Success);
        return root;
    }

    private static Option<string> CreateTransport()
    {
        var option = new Option<string>("--transport")
        {
            Description = "How every client of the demo talks to the hub: socket (default) or pipe, the two transports that carry descriptors.",
            HelpName = "socket|pipe",
            DefaultValueFactory = _ => "socket",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong(TransportNames);
        return option;
    }

    private static Option<long> CreateSize(string name, bool required, string description) => new(name)
    {
        Description = description,
        HelpName = "BYTES",
        Required = required,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : string.Empty;
            if (!ByteSizes.TryParse(text, out long value) || value < 1 || value > MaxSize)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: '{text}' is not a size from 1 byte to 1 GiB (bytes, or a number with K, KiB, M, MiB, G or GiB)"));
                return 0;
            }
            return value;
        },
    };
}
