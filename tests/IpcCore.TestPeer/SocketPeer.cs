using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IpcCore.Native;

namespace IpcCore.TestPeer;

/// <summary>Peer commands for the UNIX socket and descriptor-passing tests: each connects to the test's listener.</summary>
internal static class SocketPeer
{
    /// <summary>
    /// <c>socket-read-fd &lt;socket&gt;</c>: connects, receives one message that must carry exactly one
    /// descriptor, reads the file through it to the end and prints "payload &lt;text&gt;",
    /// "cloexec &lt;True|False&gt;" and "content &lt;length&gt; &lt;SHA-256 hex&gt;".
    /// </summary>
    [PeerCommand("socket-read-fd")]
    public static int ReadFd(string[] args)
    {
        using UnixSocket socket = UnixSocket.CreateStream();
        socket.Connect(args[0]);
        byte[] buffer = new byte[256];
        ReceivedMessage message = socket.ReceiveWithDescriptors(buffer);
        if (message.Descriptors.Count != 1)
        {
            Console.Error.WriteLine($"expected 1 descriptor, got {message.Descriptors.Count}");
            message.CloseDescriptors();
            return 3;
        }

        using SafeFdHandle file = message.Descriptors[0];
        bool closeOnExec = FileDescriptor.IsCloseOnExec(file);
        using var content = new MemoryStream();
        byte[] chunk = new byte[4096];
        int read;
        while ((read = FileDescriptor.Read(file, chunk)) > 0)
        {
            content.Write(chunk, 0, read);
        }

        Console.WriteLine("payload " + Encoding.UTF8.GetString(buffer, 0, message.Length));
        Console.WriteLine("cloexec " + closeOnExec.ToString(CultureInfo.InvariantCulture));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"content {content.Length} {Convert.ToHexString(SHA256.HashData(content.ToArray()))}"));
        return 0;
    }

    /// <summary>
    /// <c>socket-write-pipe &lt;socket&gt; &lt;text&gt;</c>: connects, receives one message carrying a pipe's
    /// write end, writes <c>text</c> (UTF-8) into it, closes it and prints "written".
    /// </summary>
    [PeerCommand("socket-write-pipe")]
    public static int WritePipe(string[] args)
    {
        using UnixSocket socket = UnixSocket.CreateStream();
        socket.Connect(args[0]);
        byte[] buffer = new byte[64];
        ReceivedMessage message = socket.ReceiveWithDescriptors(buffer, maxDescriptors: 1);
        if (message.Descriptors.Count != 1)
        {
            Console.Error.WriteLine($"expected 1 descriptor, got {message.Descriptors.Count}");
            message.CloseDescriptors();
            return 3;
        }
        using (PipeEnd writer = PipeEnd.FromHandle(message.Descriptors[0], FileAccess.Write))
        {
            writer.WriteAll(Encoding.UTF8.GetBytes(args[1]));
        }
        Console.WriteLine("written");
        return 0;
    }

    /// <summary>
    /// <c>socket-hold &lt;socket&gt;</c>: connects, prints "connected &lt;pid of the listener (SO_PEERCRED)&gt;",
    /// then keeps the connection until a line arrives on stdin.
    /// </summary>
    [PeerCommand("socket-hold")]
    public static int Hold(string[] args)
    {
        using UnixSocket socket = UnixSocket.CreateStream();
        socket.Connect(args[0]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connected {socket.PeerCredentials.Pid}"));
        _ = Console.ReadLine();
        return 0;
    }

    /// <summary>
    /// <c>socket-recv-ctrunc &lt;socket&gt; &lt;maxFds&gt;</c>: connects, prints "ready", then receives one
    /// message allowing only <c>maxFds</c> descriptors. Prints "EMSGSIZE &lt;fds before&gt; &lt;fds after&gt;"
    /// (entries of /proc/self/fd) when the receive failed with EMSGSIZE, else what happened instead (exit 3).
    /// </summary>
    [PeerCommand("socket-recv-ctrunc")]
    public static int ReceiveTruncated(string[] args)
    {
        int maxFds = int.Parse(args[1], CultureInfo.InvariantCulture);
        using UnixSocket socket = UnixSocket.CreateStream();
        socket.Connect(args[0]);

        // Warm up the failure path (exception types, errno text) so the counts below see only the receive.
        try
        {
            using UnixSocket probe = UnixSocket.CreateStream();
            probe.Connect(args[0] + ".missing");
        }
        catch (IpcException)
        {
        }

        byte[] buffer = new byte[64];
        Console.WriteLine("ready");
        int before = OpenDescriptorCount();
        try
        {
            ReceivedMessage message = socket.ReceiveWithDescriptors(buffer, maxFds);
            Console.WriteLine($"received {message}");
            message.CloseDescriptors();
            return 3;
        }
        catch (IpcException e) when (e.Errno == Errno.EMSGSIZE)
        {
            int after = OpenDescriptorCount();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"EMSGSIZE {before} {after}"));
            Console.Error.WriteLine(e.Message);
            return 0;
        }
    }

    private static int OpenDescriptorCount() => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
}
