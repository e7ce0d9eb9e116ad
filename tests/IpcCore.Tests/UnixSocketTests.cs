using System.Globalization;
using System.Text;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;
using SocketShutdown = System.Net.Sockets.SocketShutdown;

namespace IpcCore.Tests;

[TestFixture]
public sealed class UnixSocketTests
{
    [Test]
    public void Stream_connect_accept_and_exchange_bytes_both_ways()
    {
        using var dir = new ScratchDirectory("sock-stream");
        string path = dir.File("hub.sock");
        using UnixSocket listener = UnixSocket.CreateStream();
        listener.Bind(path);
        listener.Listen();
        using UnixSocket client = UnixSocket.CreateStream();
        client.Connect(path);
        using UnixSocket server = listener.Accept();

        client.SendAll("hello hub"u8);
        byte[] buffer = new byte[64];
        int n = server.Receive(buffer);
        server.SendAll("hello client"u8);
        int m = client.Receive(buffer.AsSpan(32));

        Assert.Multiple(() =>
        {
            Assert.That(Encoding.UTF8.GetString(buffer, 0, n), Is.EqualTo("hello hub"));
            Assert.That(Encoding.UTF8.GetString(buffer, 32, m), Is.EqualTo("hello client"));
            Assert.That(listener.Path, Is.EqualTo(path));
            Assert.That(client.Path, Is.EqualTo(path));
            Assert.That(server.Path, Is.EqualTo(path));
            Assert.That(server.Type, Is.EqualTo(UnixSocketType.Stream));
            Assert.That(File.Exists(path), Is.True, "bind creates the socket file");
        });
    }

    [Test]
    public void Every_socket_is_close_on_exec()
    {
        using var dir = new ScratchDirectory("sock-cloexec");
        string path = dir.File("s");
        using UnixSocket listener = UnixSocket.CreateSeqPacket();
        listener.Bind(path);
        listener.Listen();
        using UnixSocket client = UnixSocket.CreateSeqPacket();
        client.Connect(path);
        using UnixSocket server = listener.Accept();
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using (a)
        using (b)
        {
            foreach (UnixSocket s in (UnixSocket[])[listener, client, server, a, b])
            {
                Assert.That(FileDescriptor.IsCloseOnExec(s.Handle), Is.True, s.ToString());
            }
        }
    }

    [Test]
    public void SeqPacket_keeps_message_boundaries()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(UnixSocketType.SeqPacket);
        using (a)
        using (b)
        {
            a.Send("one"u8);
            a.Send("three"u8);
            a.Send("fifteen bytes!!"u8);

            byte[] buffer = new byte[100];
            Assert.That(b.Receive(buffer), Is.EqualTo(3));
            Assert.That(b.Receive(buffer), Is.EqualTo(5));
            Assert.That(b.Receive(buffer), Is.EqualTo(15));
            Assert.That(Encoding.ASCII.GetString(buffer, 0, 15), Is.EqualTo("fifteen bytes!!"));
        }
    }

    [Test]
    public void SeqPacket_message_larger_than_the_buffer_is_EMSGSIZE_not_silently_cut()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(UnixSocketType.SeqPacket);
        using (a)
        using (b)
        {
            a.Send(new byte[100]);
            IpcException e = Assert.Throws<IpcException>(() => b.Receive(new byte[10]))!;
            Assert.That(e.Errno, Is.EqualTo(Errno.EMSGSIZE));
            Assert.That(e.Message, Does.StartWith("recvmsg('fd "));
        }
    }

    [Test]
    public void Shutdown_send_gives_the_peer_end_of_stream_and_it_can_still_answer()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using (a)
        using (b)
        {
            a.SendAll("last"u8);
            a.Shutdown(SocketShutdown.Send);

            byte[] buffer = new byte[16];
            Assert.That(b.TryReceive(buffer), Is.EqualTo(new IoResult(IoStatus.Success, 4)));
            Assert.That(b.TryReceive(buffer), Is.EqualTo(new IoResult(IoStatus.EndOfStream, 0)));
            b.SendAll("ack"u8);
            Assert.That(a.Receive(buffer), Is.EqualTo(3));
        }
    }

    [Test]
    public void Connect_to_a_missing_path_fails_with_ENOENT_naming_the_path()
    {
        using var dir = new ScratchDirectory("sock-missing");
        string path = dir.File("nobody.sock");
        using UnixSocket client = UnixSocket.CreateStream();

        IpcException e = Assert.Throws<IpcException>(() => client.Connect(path))!;

        Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(e.Message, Is.EqualTo($"connect('{path}'): ENOENT (No such file or directory)"));
    }

    [Test]
    public void Connect_to_a_stale_socket_file_fails_with_ECONNREFUSED()
    {
        using var dir = new ScratchDirectory("sock-stale");
        string path = dir.File("stale.sock");
        using (UnixSocket dead = UnixSocket.CreateStream())
        {
            dead.Bind(path);
            dead.Listen();
        }
        Assert.That(File.Exists(path), Is.True, "closing a socket leaves its file");

        using UnixSocket client = UnixSocket.CreateStream();
        IpcException e = Assert.Throws<IpcException>(() => client.Connect(path))!;

        Assert.That(e.Errno, Is.EqualTo(Errno.ECONNREFUSED));
        Assert.That(e.Message, Is.EqualTo($"connect('{path}'): ECONNREFUSED (Connection refused)"));
    }

    [Test]
    public void Second_bind_to_the_same_path_fails_with_EADDRINUSE()
    {
        using var dir = new ScratchDirectory("sock-inuse");
        string path = dir.File("hub.sock");
        using UnixSocket first = UnixSocket.CreateStream();
        first.Bind(path);
        using UnixSocket second = UnixSocket.CreateStream();

        IpcException e = Assert.Throws<IpcException>(() => second.Bind(path))!;

        Assert.That(e.Errno, Is.EqualTo(Errno.EADDRINUSE));
        Assert.That(e.Message, Does.StartWith($"bind('{path}'): EADDRINUSE"));
        Assert.That(second.Path, Is.Null, "a failed bind does not claim the path");
    }

    [Test]
    public void Path_longer_than_sun_path_fails_with_ENAMETOOLONG_and_says_the_limit()
    {
        using var dir = new ScratchDirectory("sock-long");
        string path = dir.File(new string('x', 120));
        using UnixSocket socket = UnixSocket.CreateStream();

        IpcException bind = Assert.Throws<IpcException>(() => socket.Bind(path))!;
        IpcException connect = Assert.Throws<IpcException>(() => socket.Connect(path))!;

        Assert.That(bind.Errno, Is.EqualTo(Errno.ENAMETOOLONG));
        Assert.That(connect.Errno, Is.EqualTo(Errno.ENAMETOOLONG));
        Assert.That(bind.Message, Does.Contain("at most 107 bytes").And.Contain(
            Encoding.UTF8.GetByteCount(path).ToString(CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Path_with_NUL_is_rejected_before_the_kernel_sees_a_shorter_path()
    {
        using UnixSocket socket = UnixSocket.CreateStream();
        Assert.Throws<ArgumentException>(() => socket.Bind("/tmp/a\0b"));
        Assert.Throws<ArgumentException>(() => socket.Connect(""));
    }

    [Test]
    public void NonBlocking_receive_on_an_empty_socket_is_WouldBlock_or_EAGAIN()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(nonBlocking: true);
        using (a)
        using (b)
        {
            byte[] buffer = new byte[8];
            Assert.That(a.TryReceive(buffer), Is.EqualTo(new IoResult(IoStatus.WouldBlock, 0)));
            IpcException e = Assert.Throws<IpcException>(() => a.Receive(buffer))!;
            Assert.That(e.Errno, Is.EqualTo(Errno.EAGAIN));
            Assert.That(e.Message, Does.Match(@"^recvmsg\('fd \d+'\): EAGAIN \(Resource temporarily unavailable\)$"));
            Assert.That(a.NonBlocking, Is.True);
        }
    }

    [Test]
    public void NonBlocking_send_to_a_full_socket_is_WouldBlock()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair(nonBlocking: true);
        using (a)
        using (b)
        {
            byte[] chunk = new byte[4096];
            IoResult result;
            long total = 0;
            while ((result = a.TrySend(chunk)).IsSuccess)
            {
                total += result.BytesTransferred;
                Assert.That(total, Is.LessThan(64L * 1024 * 1024), "the socket never filled up");
            }
            Assert.That(result.Status, Is.EqualTo(IoStatus.WouldBlock));
            Assert.That(total, Is.GreaterThan(0));
        }
    }

    [Test]
    public void TryAccept_on_a_non_blocking_listener_without_clients_returns_null()
    {
        using var dir = new ScratchDirectory("sock-tryaccept");
        string path = dir.File("l.sock");
        using UnixSocket listener = UnixSocket.CreateStream(nonBlocking: true);
        listener.Bind(path);
        listener.Listen(4);

        Assert.That(listener.TryAccept(), Is.Null);
        Assert.That(Assert.Throws<IpcException>(() => listener.Accept())!.Errno, Is.EqualTo(Errno.EAGAIN));

        using UnixSocket client = UnixSocket.CreateStream();
        client.Connect(path);
        using UnixSocket? server = listener.TryAccept(nonBlocking: true);
        Assert.That(server, Is.Not.Null);
        Assert.That(server!.NonBlocking, Is.True);
    }

    [Test]
    public void Peer_gone_is_PeerClosed_for_send_and_EndOfStream_for_receive()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using (a)
        {
            b.Dispose();
            Assert.That(a.TryReceive(new byte[4]), Is.EqualTo(new IoResult(IoStatus.EndOfStream, 0)));
            Assert.That(a.TrySend("x"u8).Status, Is.EqualTo(IoStatus.PeerClosed));
            Assert.That(Assert.Throws<IpcException>(() => a.Send("x"u8))!.Errno, Is.EqualTo(Errno.EPIPE));
        }
    }

    [Test]
    public void Disposed_socket_throws_ObjectDisposedException()
    {
        UnixSocket socket = UnixSocket.CreateStream();
        socket.Dispose();
        socket.Dispose();

        Assert.Throws<ObjectDisposedException>(() => socket.Send("x"u8));
        Assert.Throws<ObjectDisposedException>(() => socket.Receive(new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => socket.Connect("/tmp/x"));
        Assert.Throws<ObjectDisposedException>(() => _ = socket.PeerCredentials);
        Assert.Throws<ObjectDisposedException>(() => FileDescriptor.IsCloseOnExec(socket.Handle));
    }

    [Test]
    public void Buffer_sizes_can_be_read_and_raised()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using (a)
        using (b)
        {
            Assert.That(a.SendBufferSize, Is.GreaterThan(0));
            Assert.That(a.ReceiveBufferSize, Is.GreaterThan(0));
            a.SendBufferSize = 256 * 1024;
            a.ReceiveBufferSize = 128 * 1024;
            // Linux doubles the requested size (bookkeeping overhead); it may also cap it at wmem_max.
            Assert.That(a.SendBufferSize, Is.GreaterThanOrEqualTo(Math.Min(256 * 1024, 2 * ReadSysctl("/proc/sys/net/core/wmem_max"))));
            Assert.That(a.ReceiveBufferSize, Is.GreaterThanOrEqualTo(Math.Min(128 * 1024, 2 * ReadSysctl("/proc/sys/net/core/rmem_max"))));
            Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBufferSize = 0);
        }
    }

    [Test]
    public void Socket_pair_reports_our_own_credentials()
    {
        (UnixSocket a, UnixSocket b) = UnixSocket.CreatePair();
        using (a)
        using (b)
        {
            Assert.That(a.PeerCredentials, Is.EqualTo(new PeerCredentials(Environment.ProcessId, ProcessInfo.EffectiveUid, EffectiveGid())));
        }
    }

    [Test]
    public void Unconnected_socket_has_no_peer_credentials()
    {
        using UnixSocket socket = UnixSocket.CreateStream();
        IpcException e = Assert.Throws<IpcException>(() => _ = socket.PeerCredentials)!;
        Assert.That(e.Errno, Is.EqualTo(Errno.ENOTCONN));
        Assert.That(e.Message, Does.Match(@"^getsockopt\(SO_PEERCRED\)\('fd \d+'\): ENOTCONN"));
    }

    [Test]
    public void Accepted_connection_reports_the_peer_process_pid_and_our_uid_and_gid()
    {
        using var dir = new ScratchDirectory("sock-peercred");
        string path = dir.File("hub.sock");
        using UnixSocket listener = UnixSocket.CreateStream();
        listener.Bind(path);
        listener.Listen();

        using Peer peer = Peer.Start("socket-hold", path);
        using UnixSocket server = Waits.Accept(listener, peer);
        string line = peer.ReadLine(Waits.PeerTimeout);
        PeerCredentials credentials = server.PeerCredentials;
        peer.WriteLine("done");

        Assert.Multiple(() =>
        {
            Assert.That(credentials.Pid, Is.EqualTo(peer.Pid), "the peer's pid (dotnet execs the app in the same process)");
            Assert.That(credentials.Pid, Is.Not.EqualTo(Environment.ProcessId));
            Assert.That(credentials.Uid, Is.EqualTo(ProcessInfo.EffectiveUid));
            Assert.That(credentials.Gid, Is.EqualTo(EffectiveGid()));
            Assert.That(line, Is.EqualTo(string.Create(CultureInfo.InvariantCulture, $"connected {Environment.ProcessId}")),
                "the client sees the listener's pid");
        });
        Assert.That(peer.WaitForExit(Waits.PeerTimeout), Is.Zero, peer.StandardErrorSoFar);
    }

    /// <summary>The effective gid: the second field of the "Gid:" line of /proc/self/status.</summary>
    internal static uint EffectiveGid()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Gid:", StringComparison.Ordinal));
        return uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
    }

    private static int ReadSysctl(string path) => int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
}
