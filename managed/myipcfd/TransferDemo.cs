using System.Diagnostics;
using System.Globalization;
using System.Text;
using IpcCore;
using IpcCore.Cli;
using IpcCore.Client;
using IpcCore.Protocol;

namespace MyIpcFd;

/// <summary>
/// <c>myipcfd transfer</c>: the same bytes to another process twice. By descriptor: written once into a memfd,
/// sealed (no write, shrink, grow or further seal), and only the descriptor goes through the hub; the receiver
/// checks the seals before it trusts a read-only mapping. Copied: in messages of the hub's maximum size less
/// 64 bytes, through the socket (or pipes) to the hub and on to the receiver, which reassembles them. Both
/// times the receiver checksums what it got and replies with the checksum.
/// </summary>
internal static class TransferDemo
{
    /// <summary>How far below the hub's maximum message size each copied chunk stays.</summary>
    private const int ChunkMargin = 64;

    /// <summary>Publishes in flight at once while copying (each waits for its Ack).</summary>
    private const int PublishWindow = 8;

    private const FileSeals RequiredSeals = FileSeals.Write | FileSeals.Shrink | FileSeals.Grow;

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(30);

    // --- the sender (this process) -------------------------------------------------------------

    public static async Task<int> RunAsync(CliTool tool, DemoHub hub, long size, CancellationToken cancellationToken)
    {
        string prefix = string.Create(CultureInfo.InvariantCulture, $"demo.transfer.{Environment.ProcessId}");
        Say($"== transfer: {ByteSizes.Format(size)} to another process, by descriptor and copied (transport: {hub.TransportName})");
        byte[] payload = Payload.Create(checked((int)size));
        ulong expected = Checksum.Compute(payload);
        Say(string.Create(CultureInfo.InvariantCulture, $"sender: {size} bytes of pseudo-random data, checksum {expected:x16}"));

        HubClient client = await hub.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            var replies = new MessageInbox(await client.SubscribeAsync(prefix + ".reply", cancellationToken).ConfigureAwait(false), cancellationToken);
            await using (replies.ConfigureAwait(false))
            {
                using HelperProcess receiver = HelperProcess.Start("receiver",
                [
                    "receiver", "--dir", hub.Directory, "--transport", hub.TransportName,
                    "--prefix", prefix, "--size", size.ToString(CultureInfo.InvariantCulture),
                ]);
                await receiver.WaitUntilReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
                Say(string.Create(CultureInfo.InvariantCulture, $"sender: the receiver (pid {receiver.Pid}) has subscribed to '{prefix}.fd' and '{prefix}.copy'"));

                // (a) by descriptor: create, write, seal, publish the descriptor; the receiver maps and checksums.
                var clock = Stopwatch.StartNew();
                TimeSpan sealedAt, ackedAt;
                using (MemoryFile memfd = MemoryFile.Create("myipcfd-transfer"))
                {
                    memfd.Write(payload);
                    memfd.AddSeals(FileSeals.Immutable);
                    sealedAt = clock.Elapsed;
                    PublishResult ack = await client.PublishAsync(prefix + ".fd", Encoding.UTF8.GetBytes(size.ToString(CultureInfo.InvariantCulture)),
                        [memfd.Handle], cancellationToken).ConfigureAwait(false);
                    if (ack.Delivered == 0)
                    {
                        throw new DemoFailedException($"the descriptor on '{prefix}.fd' reached nobody: {PermissionsDemo.DescribeAck(ack)}");
                    }
                    ackedAt = clock.Elapsed;
                    // Closing this end now is fine: the receiver's descriptor keeps the memfd alive.
                }
                Reply byDescriptor = await AwaitReplyAsync(replies, receiver, "fd").ConfigureAwait(false);
                TimeSpan descriptorTime = clock.Elapsed;

                // (b) copied: the same bytes in chunks that fit a message.
                int chunk = Math.Max(1, client.MaxMessageSize - ChunkMargin);
                int messages = (int)((size + chunk - 1) / chunk);
                clock.Restart();
                var inFlight = new Queue<Task<PublishResult>>();
                for (long offset = 0; offset < size; offset += chunk)
                {
                    if (inFlight.Count == PublishWindow)
                    {
                        CheckCopyAck(await inFlight.Dequeue().ConfigureAwait(false), prefix);
                    }
                    int length = (int)Math.Min(chunk, size - offset);
                    inFlight.Enqueue(client.PublishAsync(prefix + ".copy", payload.AsMemory((int)offset, length), cancellationToken).AsTask());
                }
                while (inFlight.Count > 0)
                {
                    CheckCopyAck(await inFlight.Dequeue().ConfigureAwait(false), prefix);
                }
                Reply copied = await AwaitReplyAsync(replies, receiver, "copy").ConfigureAwait(false);
                TimeSpan copyTime = clock.Elapsed;

                ProcessExit? exit = await receiver.WaitForExitAsync(s_exitTimeout, cancellationToken).ConfigureAwait(false);
                if (exit is null)
                {
                    receiver.Kill();
                    tool.Error(string.Create(CultureInfo.InvariantCulture,
                        $"transfer: the receiver (pid {receiver.Pid}) did not exit within {s_exitTimeout.TotalSeconds:0} s; killed it (SIGKILL)"));
                }

                bool descriptorOk = byDescriptor.Bytes == size && byDescriptor.Checksum == expected;
                bool copyOk = copied.Bytes == size && copied.Checksum == expected;
                Say(string.Empty);
                Say(string.Create(CultureInfo.InvariantCulture,
                    $"{"method",-15} {"bytes",12} {"time (ms)",10} {"throughput (MB/s)",18}  checksum ok"));
                Say(Row("by descriptor", byDescriptor, descriptorTime, descriptorOk));
                Say(Row("copied", copied, copyTime, copyOk));
                Say(string.Create(CultureInfo.InvariantCulture,
                    $"by descriptor: memfd create+write+seal {sealedAt.TotalMilliseconds:0.0} ms, publish to Ack {(ackedAt - sealedAt).TotalMilliseconds:0.0} ms, receiver's seal check+map+checksum+reply {(descriptorTime - ackedAt).TotalMilliseconds:0.0} ms (1 message)"));
                Say(string.Create(CultureInfo.InvariantCulture,
                    $"copied: {messages} messages of up to {chunk} bytes (the hub's maximum message size less {ChunkMargin}), reassembled and checksummed by the receiver; MB = 10^6 bytes"));

                if (!descriptorOk || !copyOk)
                {
                    tool.Error(string.Create(CultureInfo.InvariantCulture,
                        $"transfer: FAILED: the receiver's checksum does not match {expected:x16} ({(descriptorOk ? "copied" : "by descriptor")})"));
                    return ExitCodes.RuntimeError;
                }
                if (exit is not { ExitCode: 0 })
                {
                    tool.Error($"transfer: FAILED: the receiver {exit?.ToString() ?? "was killed"}");
                    return ExitCodes.RuntimeError;
                }
                Say("transfer: OK: both checksums match");
                return ExitCodes.Success;
            }
        }
    }

    private static void CheckCopyAck(PublishResult ack, string prefix)
    {
        if (ack.Delivered == 0)
        {
            throw new DemoFailedException($"a chunk on '{prefix}.copy' reached nobody: {PermissionsDemo.DescribeAck(ack)}");
        }
    }

    private static string Row(string method, Reply reply, TimeSpan time, bool ok)
    {
        double ms = time.TotalMilliseconds;
        double mbPerSecond = reply.Bytes / 1e6 / time.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{method,-15} {reply.Bytes,12} {ms,10:0.0} {mbPerSecond,18:0.0}  {(ok ? "yes" : "NO")}");
    }

    private static async Task<Reply> AwaitReplyAsync(MessageInbox replies, HelperProcess receiver, string kind)
    {
        using HubMessage? message = await replies.ReceiveAsync(s_replyTimeout, receiver.OutputEnded).ConfigureAwait(false);
        if (message is null)
        {
            throw new DemoFailedException(receiver.OutputEnded.IsCompleted
                ? $"the receiver (pid {receiver.Pid}) exited without replying to the '{kind}' transfer (its error, if any, is above)"
                : string.Create(CultureInfo.InvariantCulture,
                    $"the receiver (pid {receiver.Pid}) did not reply to the '{kind}' transfer within {s_replyTimeout.TotalSeconds:0} s"));
        }
        string text = Encoding.UTF8.GetString(message.Payload.Span);
        string[] words = text.Split(' ', 3);
        if (words.Length == 3 && words[0] == kind
            && long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out long bytes)
            && ulong.TryParse(words[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong checksum))
        {
            return new Reply(bytes, checksum);
        }
        throw new DemoFailedException(text.StartsWith("error ", StringComparison.Ordinal)
            ? $"the receiver refused the '{kind}' transfer: {text["error ".Length..]}"
            : $"the receiver's reply to the '{kind}' transfer makes no sense: '{text}'");
    }

    // --- the receiver (myipcfd receiver) -------------------------------------------------------

    public static async Task<int> ReceiverAsync(CliTool tool, string hubDirectory, TransportKind transport, string prefix, long size,
        CancellationToken cancellationToken)
    {
        HubClient client = await DemoHub.ConnectHelperAsync(hubDirectory, transport, cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            var descriptors = new MessageInbox(await client.SubscribeAsync(prefix + ".fd", cancellationToken).ConfigureAwait(false), cancellationToken);
            await using (descriptors.ConfigureAwait(false))
            {
                var copies = new MessageInbox(await client.SubscribeAsync(prefix + ".copy", cancellationToken).ConfigureAwait(false), cancellationToken);
                await using (copies.ConfigureAwait(false))
                {
                    Console.Out.WriteLine(HelperProcess.ReadyLine);
                    string reply = prefix + ".reply";

                    string? refused = await ReceiveByDescriptorAsync(client, descriptors, reply, size, cancellationToken).ConfigureAwait(false);
                    if (refused is not null)
                    {
                        await client.PublishAsync(reply, Encoding.UTF8.GetBytes("error " + refused), cancellationToken).ConfigureAwait(false);
                        tool.Error($"receiver: {refused}");
                        return ExitCodes.RuntimeError;
                    }

                    refused = await ReceiveCopiesAsync(client, copies, reply, size, cancellationToken).ConfigureAwait(false);
                    if (refused is not null)
                    {
                        await client.PublishAsync(reply, Encoding.UTF8.GetBytes("error " + refused), cancellationToken).ConfigureAwait(false);
                        tool.Error($"receiver: {refused}");
                        return ExitCodes.RuntimeError;
                    }
                    return ExitCodes.Success;
                }
            }
        }
    }

    /// <summary>Receives the memfd, checks its seals and size, maps it read-only, checksums and replies; returns why not, or null.</summary>
    private static async Task<string?> ReceiveByDescriptorAsync(HubClient client, MessageInbox inbox, string reply, long size, CancellationToken cancellationToken)
    {
        using HubMessage? message = await inbox.ReceiveAsync(s_replyTimeout).ConfigureAwait(false);
        if (message is null)
        {
            return string.Create(CultureInfo.InvariantCulture, $"no descriptor came within {s_replyTimeout.TotalSeconds:0} s");
        }
        if (message.DescriptorError is { } lost)
        {
            return $"the descriptor was lost on the way: {lost.Message}";
        }
        if (message.Descriptors.Count != 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"expected 1 descriptor, got {message.Descriptors.Count}");
        }
        // The message owns the descriptor (disposing it closes it); the MemoryFile only looks at it.
        MemoryFile file = MemoryFile.FromHandle(message.Descriptors[0], "received");
        FileSeals seals;
        try
        {
            seals = file.GetSeals();
        }
        catch (IpcException ex)
        {
            return $"the descriptor is not a sealable memfd: {ex.Message}";
        }
        if ((seals & RequiredSeals) != RequiredSeals)
        {
            return $"the memfd lacks seals ({DescribeSeals(seals)}; needed: {DescribeSeals(RequiredSeals)}): its contents could change under a mapping, so it is not trusted";
        }
        long fileSize = file.Size;
        if (fileSize != size)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the memfd holds {fileSize} bytes, not {size}");
        }
        Say($"receiver: the memfd is sealed ({DescribeSeals(seals)}): nobody can change its contents or size any more, so a read-only mapping of it can be trusted");
        ulong checksum;
        using (MappedRegion mapping = file.Map(readOnly: true))
        {
            checksum = Checksum.Compute(mapping.ReadOnlySpan);
        }
        await client.PublishAsync(reply, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"fd {fileSize} {checksum:x16}")),
            cancellationToken).ConfigureAwait(false);
        Say(string.Create(CultureInfo.InvariantCulture, $"receiver: mapped {fileSize} bytes read-only (no copy), checksum {checksum:x16}"));
        return null;
    }

    /// <summary>Receives the chunks, reassembles them, checksums and replies; returns why not, or null.</summary>
    private static async Task<string?> ReceiveCopiesAsync(HubClient client, MessageInbox inbox, string reply, long size, CancellationToken cancellationToken)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(checked((int)size));
        int received = 0;
        int messages = 0;
        while (received < buffer.Length)
        {
            using HubMessage? message = await inbox.ReceiveAsync(s_replyTimeout).ConfigureAwait(false);
            if (message is null)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"the copies stopped after {received} of {size} bytes ({messages} messages): nothing more came within {s_replyTimeout.TotalSeconds:0} s");
            }
            ReadOnlySpan<byte> part = message.Payload.Span;
            if (part.Length > buffer.Length - received)
            {
                return string.Create(CultureInfo.InvariantCulture, $"more than {size} bytes came");
            }
            part.CopyTo(buffer.AsSpan(received));
            received += part.Length;
            messages++;
        }
        ulong checksum = Checksum.Compute(buffer);
        await client.PublishAsync(reply, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"copy {received} {checksum:x16}")),
            cancellationToken).ConfigureAwait(false);
        Say(string.Create(CultureInfo.InvariantCulture, $"receiver: reassembled {received} bytes from {messages} messages, checksum {checksum:x16}"));
        return null;
    }

    private static string DescribeSeals(FileSeals seals)
    {
        var names = new List<string>();
        foreach ((FileSeals seal, string name) in (ReadOnlySpan<(FileSeals, string)>)
            [(FileSeals.Write, "F_SEAL_WRITE"), (FileSeals.Shrink, "F_SEAL_SHRINK"), (FileSeals.Grow, "F_SEAL_GROW"),
             (FileSeals.Seal, "F_SEAL_SEAL"), (FileSeals.FutureWrite, "F_SEAL_FUTURE_WRITE")])
        {
            if ((seals & seal) == seal)
            {
                names.Add(name);
            }
        }
        return names.Count == 0 ? "none" : string.Join('|', names);
    }

    private static void Say(string line) => Console.Out.WriteLine(line);

    private readonly record struct Reply(long Bytes, ulong Checksum);
}
