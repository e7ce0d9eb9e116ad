using System.Globalization;
using System.Text;
using IpcCore;
using IpcCore.Cli;
using IpcCore.Client;
using IpcCore.Protocol;

namespace MyIpcSub;

internal sealed record SubscriberSettings(string[] Patterns, int? Count, OutputFormat Format, string? SaveDirectory = null);

/// <summary>What myipcsub does once the command line is parsed.</summary>
internal sealed class Subscriber(CliTool tool, SubscriberSettings settings, HubClientOptions clientOptions)
{
    private readonly TaskCompletionSource<int> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MessageFormatter _formatter = new(settings.Format);
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private byte[][] _patterns = [];
    private long _printed;
    private int _descriptorFailures;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (settings.Patterns.Length == 0)
        {
            throw new UsageException("at least one --channel is required");
        }
        foreach (string pattern in settings.Patterns)
        {
            string? why = ChannelName.Explain(Encoding.UTF8.GetBytes(pattern), allowWildcards: true);
            if (why is not null)
            {
                throw new UsageException($"invalid channel pattern '{pattern}': {why}");
            }
        }
        if (settings.Count is < 1)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--count must be at least 1, not {settings.Count}"));
        }
        _patterns = [.. settings.Patterns.Select(Encoding.UTF8.GetBytes)];
        if (settings.SaveDirectory is { } saveTo && !Directory.Exists(saveTo))
        {
            throw new UsageException($"--save: '{saveTo}' is not a directory");
        }

        HubClient client = await CommonOptions.ConnectAsync(tool, clientOptions, cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            client.StateChanged += OnStateChanged;
            client.MessagesMissed += OnMessagesMissed;
            for (int i = 0; i < settings.Patterns.Length; i++)
            {
                int index = i;
                await client.SubscribeAsync(settings.Patterns[i],
                    (channel, sequence, payload, descriptors) => OnMessage(index, channel, sequence, payload, descriptors),
                    cancellationToken).ConfigureAwait(false);
                tool.Status($"Subscribed to '{settings.Patterns[i]}'");
            }
            using CancellationTokenRegistration onSignal = cancellationToken.Register(() => _done.TrySetResult(ExitCodes.Success));
            int exit = await _done.Task.ConfigureAwait(false);
            return exit == ExitCodes.Success && Volatile.Read(ref _descriptorFailures) > 0 ? ExitCodes.RuntimeError : exit;
        }
    }

    /// <summary>Receive thread. A message matching several patterns is printed once: by the first pattern it matches.</summary>
    private void OnMessage(int index, ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload, ReceivedDescriptors descriptors)
    {
        for (int j = 0; j < index; j++)
        {
            if (ChannelName.Matches(_patterns[j], channel))
            {
                return;
            }
        }
        if (_done.Task.IsCompleted)
        {
            return;
        }
        try
        {
            if (descriptors.Count > 0 || descriptors.Error is not null)
            {
                WriteWithDescriptors(channel, sequence, payload, descriptors);
            }
            else
            {
                _stdout.Write(_formatter.Format(channel, sequence, payload));
            }
            _stdout.Flush();
        }
        catch (IOException)
        {
            // Nobody reads stdout any more (e.g. '| head -1'): that is the end.
            _done.TrySetResult(ExitCodes.Success);
            return;
        }
        long printed = ++_printed;
        if (settings.Count is { } count && printed >= count)
        {
            _done.TrySetResult(ExitCodes.Success);
        }
    }

    /// <summary>
    /// A message with descriptors: the first must be a sealed memfd (myipcpub --by-fd), whose content is printed in
    /// place of the payload or saved (--save); anything else is reported, never trusted.
    /// </summary>
    private void WriteWithDescriptors(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload, ReceivedDescriptors descriptors)
    {
        string where = string.Create(CultureInfo.InvariantCulture, $"message {sequence} on '{Encoding.UTF8.GetString(channel)}'");
        if (descriptors.Error is { } lost)
        {
            Failed($"{where}: {lost.Reason}");
            return;
        }
        SafeFdHandle[] handles = descriptors.Take();
        try
        {
            using SealedContent? content = SealedContent.Open(handles[0], out string? why);
            if (content is null)
            {
                Failed($"{where}: {why}; not trusted, not read");
                return;
            }
            if (settings.SaveDirectory is { } directory)
            {
                string saved = content.SaveInto(directory, payload, sequence);
                _stdout.Write(_formatter.FormatSaved(channel, sequence, saved, content.Length));
                return;
            }
            if (settings.Format != OutputFormat.Raw && content.Length > MessageFormatter.MaxPrintedContent)
            {
                _stdout.Write(_formatter.FormatNotPrinted(channel, sequence, payload, content.Length));
                return;
            }
            _stdout.Write(_formatter.Format(channel, sequence, content.Bytes));
        }
        catch (IpcException ex)
        {
            Failed($"{where}: {ex.Message}");
        }
        catch (IOException ex)
        {
            Failed($"{where}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            Failed($"{where}: {ex.Message}");
        }
        finally
        {
            foreach (SafeFdHandle handle in handles)
            {
                handle.Dispose();
            }
        }
    }

    private void Failed(string message)
    {
        Interlocked.Increment(ref _descriptorFailures);
        tool.Error(message);
    }

    private void OnStateChanged(object? sender, HubConnectionStateChangedEventArgs e)
    {
        switch (e.State)
        {
            case HubConnectionState.Reconnecting:
                tool.Status("Reconnecting to hub...");
                break;
            case HubConnectionState.Reconnected:
                tool.Status(string.Create(CultureInfo.InvariantCulture, $"Reconnected; resubscribed to {e.ResubscribedPatterns} pattern(s)"));
                break;
            case HubConnectionState.Closed when e.Error is not null:
                if (!_done.Task.IsCompleted)
                {
                    tool.Error(e.Error.Message);
                    _done.TrySetResult(ExitCodes.RuntimeError);
                }
                break;
        }
    }

    private void OnMessagesMissed(object? sender, HubMessagesMissedEventArgs e)
        => tool.Error(string.Create(CultureInfo.InvariantCulture,
            $"missed {e.Count} message(s) on '{e.Channel}' (sequence {e.FirstMissed}..{e.LastMissed})"));
}
