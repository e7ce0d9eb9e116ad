using System.Globalization;
using System.Text;
using IpcCore.Cli;
using IpcCore.Client;
using IpcCore.Protocol;

namespace MyIpcSub;

internal sealed record SubscriberSettings(string[] Patterns, int? Count, OutputFormat Format);

/// <summary>What myipcsub does once the command line is parsed.</summary>
internal sealed class Subscriber(CliTool tool, SubscriberSettings settings, HubClientOptions clientOptions)
{
    private readonly TaskCompletionSource<int> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MessageFormatter _formatter = new(settings.Format);
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private byte[][] _patterns = [];
    private long _printed;

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

        HubClient client = await CommonOptions.ConnectAsync(tool, clientOptions, cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            client.StateChanged += OnStateChanged;
            client.MessagesMissed += OnMessagesMissed;
            for (int i = 0; i < settings.Patterns.Length; i++)
            {
                int index = i;
                await client.SubscribeAsync(settings.Patterns[i], (channel, sequence, payload) => OnMessage(index, channel, sequence, payload),
                    cancellationToken).ConfigureAwait(false);
                tool.Status($"Subscribed to '{settings.Patterns[i]}'");
            }
            using CancellationTokenRegistration onSignal = cancellationToken.Register(() => _done.TrySetResult(ExitCodes.Success));
            return await _done.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Receive thread. A message matching several patterns is printed once: by the first pattern it matches.</summary>
    private void OnMessage(int index, ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
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
            _stdout.Write(_formatter.Format(channel, sequence, payload));
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
