using System.Text;
using System.Threading.Channels;
using IpcCore;
using IpcCore.Cli;
using IpcCore.Client;
using IpcCore.Protocol;

namespace MyIpcPub;

internal sealed record PublisherSettings(string Channel, string? Message, string? File, bool NoAck, ushort Priority = 0, bool ByDescriptor = false);

/// <summary>What myipcpub does once the command line is parsed.</summary>
internal sealed class Publisher(CliTool tool, PublisherSettings settings, HubClientOptions clientOptions)
{
    /// <summary>Publishes in flight at once when reading stdin (results still print in input order).</summary>
    private const int Window = 256;

    private readonly TaskCompletionSource<HubConnectionException> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _exitCode = ExitCodes.Success;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        string? why = ChannelName.Explain(Encoding.UTF8.GetBytes(settings.Channel), allowWildcards: false);
        if (why is not null)
        {
            throw new UsageException($"invalid channel name '{settings.Channel}': {why}");
        }
        if (settings.Message is not null && settings.File is not null)
        {
            throw new UsageException("--message and --file cannot be used together");
        }
        if (settings.ByDescriptor)
        {
            if (settings.File is null)
            {
                throw new UsageException("--by-fd needs --file PATH (the file whose bytes go into the sealed memfd)");
            }
            if (settings.NoAck)
            {
                throw new UsageException("--by-fd waits for the hub's Ack (it says how many subscribers could not receive the descriptor): drop --no-ack");
            }
            if (clientOptions.Transport is not (TransportKind.Socket or TransportKind.Pipe))
            {
                throw new UsageException($"--by-fd needs the socket or pipe backend; {TransportNames.Of(clientOptions.Transport)} cannot carry descriptors");
            }
        }
        byte[]? single = settings.Message is not null ? Encoding.UTF8.GetBytes(settings.Message) : null;
        using MemoryFile? sealedCopy = settings.ByDescriptor ? SealedFile.Create(settings.File!) : null;
        if (settings.File is not null && sealedCopy is null)
        {
            try
            {
                single = await File.ReadAllBytesAsync(settings.File, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"cannot read '{settings.File}': {ex.Message}", ex);
            }
        }

        HubClient client = await CommonOptions.ConnectAsync(tool, clientOptions, cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            client.StateChanged += OnStateChanged;
            client.ErrorReceived += OnErrorReceived;
            tool.Status($"Publishing to '{settings.Channel}' channel...");
            try
            {
                if (sealedCopy is not null)
                {
                    await PublishByDescriptorAsync(client, sealedCopy, cancellationToken).ConfigureAwait(false);
                }
                else if (single is not null)
                {
                    await PublishOneAsync(client, single, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await PublishLinesAsync(client, cancellationToken).ConfigureAwait(false);
                }
                if (settings.NoAck && client.State != HubConnectionState.Closed)
                {
                    // Everything handed over; make sure the hub has handled it before saying goodbye.
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(10));
                    await client.FlushAsync(timeout.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // SIGINT/SIGTERM: say goodbye and exit with what we have.
            }
            catch (OperationCanceledException) when (settings.NoAck)
            {
                // The hub did not answer the final flush in time; the messages were handed over.
            }
            catch (HubConnectionException ex)
            {
                tool.Error(ex.Message);
                return ExitCodes.RuntimeError;
            }
        }
        return _exitCode;
    }

    private async Task PublishOneAsync(HubClient client, byte[] payload, CancellationToken cancellationToken)
    {
        if (settings.NoAck)
        {
            Publish(client, payload);
            return;
        }
        Pending pending = Start(client, payload, cancellationToken);
        await ReportAsync(pending).ConfigureAwait(false);
    }

    /// <summary>One message: the file's name as the payload, the sealed memfd attached.</summary>
    private async Task PublishByDescriptorAsync(HubClient client, MemoryFile sealedCopy, CancellationToken cancellationToken)
    {
        byte[] name = Encoding.UTF8.GetBytes(Path.GetFileName(settings.File!));
        try
        {
            PublishResult result = await client.PublishAsync(settings.Channel, name, [sealedCopy.Handle], settings.Priority, cancellationToken)
                .ConfigureAwait(false);
            Console.Out.WriteLine(result.CannotCarryDescriptors == 0
                ? $"Published ({result.Delivered} subscribers; {sealedCopy.Size} bytes by descriptor)"
                : $"Published ({result.Delivered} subscribers; {sealedCopy.Size} bytes by descriptor; {result.CannotCarryDescriptors} could not receive it: their backend cannot carry descriptors)");
            Console.Out.Flush();
        }
        catch (HubException ex)
        {
            Failed(Describe(ex));
        }
    }

    private async Task PublishLinesAsync(HubClient client, CancellationToken cancellationToken)
    {
        bool interactive = !Console.IsInputRedirected;
        var lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4 * Window) { SingleReader = true, SingleWriter = true });
        var reader = new Thread(() => ReadLines(lines.Writer)) { IsBackground = true, Name = "stdin" };
        reader.Start();

        Task<HubConnectionException> lost = _lost.Task;
        var inflight = new Queue<Pending>();
        bool inputDone = false;
        Task<bool>? more = null;
        Task never = Task.Delay(Timeout.Infinite, cancellationToken);
        while (true)
        {
            while (inflight.Count < Window && lines.Reader.TryRead(out byte[]? line))
            {
                if (settings.NoAck)
                {
                    Publish(client, line);
                }
                else
                {
                    inflight.Enqueue(Start(client, line, cancellationToken));
                    if (interactive)
                    {
                        break; // one at a time: the answer comes before the next prompt
                    }
                }
            }

            if (inflight.Count > 0 && (inputDone || interactive || inflight.Count >= Window || inflight.Peek().IsCompleted))
            {
                await ReportAsync(inflight.Dequeue()).ConfigureAwait(false);
                continue;
            }
            if (inputDone)
            {
                return;
            }

            if (interactive && inflight.Count == 0)
            {
                Console.Out.Write("> ");
                Console.Out.Flush();
            }
            // Wait for more input, the oldest answer, a lost connection or a signal.
            more ??= lines.Reader.WaitToReadAsync(cancellationToken).AsTask();
            Task head = inflight.Count > 0 ? inflight.Peek().Completion : never;
            Task first = await Task.WhenAny(more, head, lost).ConfigureAwait(false);
            if (first == lost)
            {
                throw lost.Result;
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (more.IsCompleted)
            {
                bool available = await more.ConfigureAwait(false);
                more = null;
                if (!available)
                {
                    inputDone = true;
                    if (interactive)
                    {
                        Console.Out.WriteLine();
                    }
                }
            }
        }
    }

    private static void ReadLines(ChannelWriter<byte[]> lines)
    {
        try
        {
            using Stream stdin = Console.OpenStandardInput();
            byte[] buffer = new byte[64 * 1024];
            var partial = new MemoryStream();
            while (true)
            {
                int n = stdin.Read(buffer, 0, buffer.Length);
                if (n <= 0)
                {
                    break;
                }
                ReadOnlySpan<byte> data = buffer.AsSpan(0, n);
                while (true)
                {
                    int newline = data.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        partial.Write(data);
                        break;
                    }
                    partial.Write(data[..newline]);
                    WriteLine(lines, partial.ToArray());
                    partial.SetLength(0);
                    data = data[(newline + 1)..];
                }
            }
            if (partial.Length > 0)
            {
                WriteLine(lines, partial.ToArray()); // a last line without a newline
            }
            lines.TryComplete();
        }
        catch (IOException ex)
        {
            lines.TryComplete(ex);
        }
    }

    private static void WriteLine(ChannelWriter<byte[]> lines, byte[] line)
    {
        while (!lines.TryWrite(line))
        {
            if (!lines.WaitToWriteAsync().AsTask().GetAwaiter().GetResult())
            {
                return;
            }
        }
    }

    /// <summary>Fire and forget one message; a refusal before sending is reported and the run goes on.</summary>
    private void Publish(HubClient client, byte[] payload)
    {
        try
        {
            client.PublishAndForget(settings.Channel, payload, settings.Priority);
        }
        catch (HubException ex)
        {
            Failed(ex.Describe());
        }
    }

    private Pending Start(HubClient client, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            return new Pending(client.PublishAsync(settings.Channel, payload, settings.Priority, cancellationToken).AsTask(), null);
        }
        catch (HubException ex)
        {
            return new Pending(null, ex);
        }
    }

    private async Task ReportAsync(Pending pending)
    {
        if (pending.Error is not null)
        {
            Failed(Describe(pending.Error));
            return;
        }
        try
        {
            PublishResult result = await pending.Task!.ConfigureAwait(false);
            Console.Out.WriteLine($"Published ({result.Delivered} subscribers)");
            Console.Out.Flush();
        }
        catch (HubException ex)
        {
            Failed(Describe(ex));
        }
        catch (HubConnectionException ex) when (_lost.Task.IsCompleted is false)
        {
            // Lost before the Ack; the client reconnects (or closes, reported separately).
            Failed(ex.Message);
        }
    }

    private static string Describe(Exception error) => error is HubException hub ? hub.Describe() : error.Message;

    private void Failed(string reason)
    {
        tool.Error($"publish to '{settings.Channel}' failed: {reason}");
        _exitCode = ExitCodes.RuntimeError;
    }

    private void OnStateChanged(object? sender, HubConnectionStateChangedEventArgs e)
    {
        switch (e.State)
        {
            case HubConnectionState.Reconnecting:
                tool.Status("Reconnecting to hub...");
                break;
            case HubConnectionState.Reconnected:
                tool.Status("Reconnected");
                break;
            case HubConnectionState.Closed when e.Error is HubConnectionException lost:
                _lost.TrySetResult(lost);
                break;
        }
    }

    private void OnErrorReceived(object? sender, HubErrorEventArgs e)
    {
        if (e.Error is HubException hub)
        {
            Failed(hub.Describe());
        }
    }

    private readonly record struct Pending(Task<PublishResult>? Task, HubException? Error)
    {
        public bool IsCompleted => Task is null || Task.IsCompleted;

        public Task Completion => Task ?? System.Threading.Tasks.Task.CompletedTask;
    }
}
