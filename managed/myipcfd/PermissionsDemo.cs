using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore;
using IpcCore.Cli;
using IpcCore.Client;
using IpcCore.Protocol;
using Microsoft.Win32.SafeHandles;

namespace MyIpcFd;

/// <summary>
/// <c>myipcfd permissions</c>: an open file descriptor carries the right to use the file with it. The publisher
/// opens secret.txt read-only, then makes it unreadable (chmod 000) and passes the descriptor through the hub;
/// the reader cannot open the file by path (EACCES) but reads it through the descriptor it received.
/// </summary>
/// <remarks>
/// Root ignores file modes, so a reader running as root first subscribes (connecting needs the hub directory,
/// which is root's), then drops to nobody (65534:65534) for good. A reader that is not root is the file's owner
/// without CAP_DAC_OVERRIDE: mode 000 keeps it out already.
/// </remarks>
internal static class PermissionsDemo
{
    public const string SecretText = "the secret: this line is readable only through the descriptor";

    private const uint NobodyUid = 65534;
    private const uint NobodyGid = 65534;
    private const int MaxSecretBytes = 64 * 1024;
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_readerTimeout = TimeSpan.FromSeconds(30);

    // --- the publisher (this process) ----------------------------------------------------------

    public static async Task<int> RunAsync(CliTool tool, DemoHub hub, CancellationToken cancellationToken)
    {
        string channel = string.Create(CultureInfo.InvariantCulture, $"demo.permissions.{Environment.ProcessId}");
        Say($"== permissions: a descriptor carries the right to read a file (transport: {hub.TransportName})");
        // Connected first: a hub that is not there is the first thing to report.
        HubClient client = await hub.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            return await PublishAsync(tool, hub, client, channel, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> PublishAsync(CliTool tool, DemoHub hub, HubClient client, string channel, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory(string.Create(CultureInfo.InvariantCulture, $"myipcfd.{Environment.ProcessId}.secret.")).FullName;
        try
        {
            // Searchable by everyone (not listable): only the file's own mode decides who may open it.
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            string path = Path.Combine(directory, "secret.txt");
            await File.WriteAllTextAsync(path, SecretText + "\n", cancellationToken).ConfigureAwait(false);
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            File.SetUnixFileMode(path, UnixFileMode.None);
            bool root = ProcessInfo.EffectiveUid == 0;
            Say($"publisher: wrote {path}, opened it read-only, then chmod 000: nobody may open it by path any more"
                + (root ? " (except root: the reader drops root first)" : string.Empty));

            using HelperProcess reader = HelperProcess.Start("reader",
            [
                "reader", "--dir", hub.Directory, "--transport", hub.TransportName,
                "--channel", channel, "--path", path, "--expect", SecretText,
            ]);
            await reader.WaitUntilReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
            Say(string.Create(CultureInfo.InvariantCulture,
                $"publisher: the reader (pid {reader.Pid}) has subscribed; publishing the descriptor of secret.txt on '{channel}'"));
            PublishResult ack = await client.PublishAsync(channel, Encoding.UTF8.GetBytes("secret.txt"), [file], cancellationToken)
                .ConfigureAwait(false);
            Say("publisher: " + DescribeAck(ack));
            if (ack.Delivered == 0)
            {
                tool.Error($"permissions: nobody received the descriptor on '{channel}'");
                return ExitCodes.RuntimeError;
            }

            ProcessExit? exit = await reader.WaitForExitAsync(s_readerTimeout, cancellationToken).ConfigureAwait(false);
            if (exit is null)
            {
                reader.Kill();
                tool.Error(string.Create(CultureInfo.InvariantCulture,
                    $"permissions: the reader (pid {reader.Pid}) did not finish within {s_readerTimeout.TotalSeconds:0} s; killed it (SIGKILL)"));
                return ExitCodes.RuntimeError;
            }
            if (exit.Value.ExitCode != 0)
            {
                tool.Error($"permissions: FAILED: the reader {exit.Value}");
                return ExitCodes.RuntimeError;
            }
            Say("permissions: OK: the file's mode kept the reader out, the descriptor let it in");
            return ExitCodes.Success;
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                tool.Error($"cannot remove {directory}: {ex.Message}");
            }
        }
    }

    internal static string DescribeAck(PublishResult ack)
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"Ack: delivered to {ack.Delivered} subscriber{(ack.Delivered == 1 ? string.Empty : "s")}, not delivered to {ack.NotDelivered}"));
        if (ack.CannotCarryDescriptors > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({ack.CannotCarryDescriptors} on a transport that cannot carry descriptors)");
        }
        return text.ToString();
    }

    // --- the reader (myipcfd reader) -----------------------------------------------------------

    public static async Task<int> ReaderAsync(CliTool tool, string hubDirectory, TransportKind transport, string channel, string path,
        string expected, CancellationToken cancellationToken)
    {
        HubClient client = await DemoHub.ConnectHelperAsync(hubDirectory, transport, cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            HubSubscription subscription = await client.SubscribeAsync(channel, cancellationToken).ConfigureAwait(false);
            var inbox = new MessageInbox(subscription, cancellationToken);
            await using (inbox.ConfigureAwait(false))
            {
                Rehearse(path);
                Console.Out.WriteLine(HelperProcess.ReadyLine);

                uint uid = ProcessInfo.EffectiveUid;
                if (uid == 0)
                {
                    try
                    {
                        ProcessInfo.DropPrivileges(NobodyUid, NobodyGid);
                    }
                    catch (IpcException ex)
                    {
                        tool.Error($"reader: cannot drop root to nobody: {ex.Message}");
                        return ExitCodes.RuntimeError;
                    }
                    uid = ProcessInfo.EffectiveUid;
                    Say($"reader: subscribed as root, then dropped root for good: now uid {uid}, gid {NobodyGid} (nobody), no supplementary groups");
                }
                else
                {
                    Say($"reader: subscribed as uid {uid} (not root: mode 000 binds it as it is)");
                }

                var problems = new List<string>();
                try
                {
                    using SafeFdHandle opened = FileDescriptor.OpenReadOnly(path);
                    Say($"reader (uid {uid}): open('{path}') succeeded");
                    problems.Add($"the open of '{path}' by path succeeded: the file's mode did not keep uid {uid} out");
                }
                catch (IpcException ex)
                {
                    Say($"reader (uid {uid}): {ex.Message}");
                    if (ex.Errno != IpcCore.Native.Errno.EACCES)
                    {
                        problems.Add($"the open by path failed with {ex.ErrnoName}, not EACCES: {ex.Message}");
                    }
                }

                using HubMessage? message = await inbox.ReceiveAsync(s_readerTimeout).ConfigureAwait(false);
                if (message is null)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture,
                        $"no message came on '{channel}' within {s_readerTimeout.TotalSeconds:0} s"));
                }
                else if (message.DescriptorError is { } lost)
                {
                    problems.Add($"the message came without its descriptor: {lost.Message}");
                }
                else if (message.Descriptors.Count == 0)
                {
                    problems.Add($"the message on '{channel}' carried no descriptor");
                }
                else
                {
                    SafeFdHandle descriptor = message.Descriptors[0];
                    Say(string.Create(CultureInfo.InvariantCulture,
                        $"reader: received message {message.Sequence} on '{channel}' (\"{Encoding.UTF8.GetString(message.Payload.Span)}\") with {message.Descriptors.Count} descriptor ({descriptor})"));
                    // The descriptor shares the open file's offset with the publisher's; it never read, so this starts at 0.
                    byte[] content = ReadThrough(descriptor);
                    string text = Encoding.UTF8.GetString(content).TrimEnd('\n');
                    Say(string.Create(CultureInfo.InvariantCulture, $"reader: read {content.Length} bytes through the descriptor: \"{text}\""));
                    if (!string.Equals(text, expected, StringComparison.Ordinal))
                    {
                        problems.Add($"the descriptor read \"{text}\", not the expected \"{expected}\"");
                    }
                }

                if (problems.Count > 0)
                {
                    foreach (string problem in problems)
                    {
                        tool.Error($"reader: {problem}");
                    }
                    return ExitCodes.RuntimeError;
                }
                Say("reader: OK: open by path refused (EACCES), read through the passed descriptor allowed");
                return ExitCodes.Success;
            }
        }
    }

    /// <summary>
    /// Everything the reader does after dropping root, done once before: assemblies are loaded while they can
    /// still be read (the program's directory may be closed to nobody), and the first calls of open(2), read(2),
    /// the errno text and the console are made.
    /// </summary>
    private static void Rehearse(string path)
    {
        Preload.AllReferencedAssemblies();
        using (SafeFdHandle devNull = FileDescriptor.OpenReadOnly("/dev/null"))
        {
            _ = ReadThrough(devNull);
        }
        try
        {
            using SafeFdHandle missing = FileDescriptor.OpenReadOnly(Path.Combine(Path.GetDirectoryName(path) ?? "/", ".myipcfd-no-such-file"));
        }
        catch (IpcException ex)
        {
            _ = string.Create(CultureInfo.InvariantCulture, $"{ex.Message} {ex.ErrnoName} {ex.Errno}");
        }
        _ = Encoding.UTF8.GetString("rehearsal\n"u8).TrimEnd('\n');
        _ = ProcessInfo.EffectiveUid;
        Console.Out.Flush();
    }

    private static byte[] ReadThrough(SafeHandle descriptor)
    {
        byte[] buffer = new byte[MaxSecretBytes];
        int total = 0;
        while (total < buffer.Length)
        {
            int n = FileDescriptor.Read(descriptor, buffer.AsSpan(total));
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return buffer[..total];
    }

    private static void Say(string line) => Console.Out.WriteLine(line);
}
