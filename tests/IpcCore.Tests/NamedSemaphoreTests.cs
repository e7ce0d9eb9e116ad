using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class NamedSemaphoreTests
{
    private const string Tag = "sem";
    private static readonly TimeSpan s_peerTimeout = TimeSpan.FromSeconds(30);
    private readonly List<string> _names = [];

    [TearDown]
    public void UnlinkNames()
    {
        foreach (string name in _names)
        {
            NamedSemaphore.TryUnlink(name);
        }
        _names.Clear();
    }

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    [Test]
    public void TryWait_takes_the_count_down_to_zero_then_returns_false_and_Post_adds_one()
    {
        using NamedSemaphore sem = NamedSemaphore.Create(NewName("count"), initialValue: 2);
        Assert.That(sem.Value, Is.EqualTo(2));

        Assert.That(sem.TryWait(), Is.True);
        Assert.That(sem.TryWait(), Is.True);
        Assert.That(sem.TryWait(), Is.False, "EAGAIN at zero");
        Assert.That(sem.Value, Is.Zero);

        sem.Post();
        sem.Release();
        Assert.That(sem.Value, Is.EqualTo(2));
        sem.Wait();
        Assert.That(sem.Value, Is.EqualTo(1));
    }

    [Test]
    public void Wait_with_a_timeout_at_zero_returns_false_after_the_timeout()
    {
        using NamedSemaphore sem = NamedSemaphore.Create(NewName("timeout"));

        Assert.That(sem.Wait(TimeSpan.Zero), Is.False);
        var clock = Stopwatch.StartNew();
        Assert.That(sem.Wait(TimeSpan.FromMilliseconds(50)), Is.False);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)));
        Assert.That(sem.Wait(MonotonicClock.NowNs + 20_000_000), Is.False);
        Assert.That(sem.Wait(MonotonicClock.NowNs - 1), Is.False);

        sem.Post();
        Assert.That(sem.Wait(TimeSpan.Zero), Is.True);
        sem.Post();
        Assert.That(sem.Wait(MonotonicClock.NowNs + 1_000_000_000), Is.True);
    }

    [Test]
    public void Wait_blocks_until_another_thread_posts()
    {
        string name = NewName("thread");
        using NamedSemaphore sem = NamedSemaphore.Create(name);
        using NamedSemaphore other = NamedSemaphore.Open(name);

        var poster = Task.Run(() =>
        {
            Thread.Sleep(50);
            other.Post();
        });
        Assert.That(sem.Wait(TimeSpan.FromSeconds(10)), Is.True);
        poster.Wait();
    }

    [Test]
    public void Semaphores_ping_pong_with_a_peer_process()
    {
        const int Rounds = 200;
        string pingName = NewName("ping");
        string pongName = NewName("pong");
        using NamedSemaphore ping = NamedSemaphore.Create(pingName);
        using NamedSemaphore pong = NamedSemaphore.Create(pongName);

        using Peer peer = Peer.Start("sem-pong", pingName, pongName, Rounds.ToString(CultureInfo.InvariantCulture));
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));
        for (int i = 0; i < Rounds; i++)
        {
            ping.Post();
            Assert.That(pong.Wait(s_peerTimeout), Is.True, $"pong {i}");
        }

        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("done"));
        Assert.That(peer.WaitForExit(s_peerTimeout), Is.Zero, peer.StandardErrorSoFar);
        Assert.That(ping.Value, Is.Zero);
        Assert.That(pong.Value, Is.Zero);
    }

    [Test]
    public void Create_exclusive_on_an_existing_name_fails_with_EEXIST()
    {
        string name = NewName("exists");
        using NamedSemaphore first = NamedSemaphore.Create(name);

        IpcException? e = Assert.Throws<IpcException>(() => NamedSemaphore.Create(name));

        Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(e.Message, Is.EqualTo($"sem_open('{name}'): EEXIST (File exists)"));
    }

    [Test]
    public void Create_non_exclusive_opens_the_existing_semaphore_and_keeps_its_count()
    {
        string name = NewName("shared");
        using NamedSemaphore first = NamedSemaphore.Create(name, initialValue: 3);

        using NamedSemaphore second = NamedSemaphore.Create(name, initialValue: 9, exclusive: false);

        Assert.That(second.Value, Is.EqualTo(3));
        second.Post();
        Assert.That(first.Value, Is.EqualTo(4));
    }

    [Test]
    public void Open_and_Unlink_of_a_missing_semaphore_fail_with_ENOENT_and_TryUnlink_returns_false()
    {
        string name = NewName("missing");

        IpcException? open = Assert.Throws<IpcException>(() => NamedSemaphore.Open(name));
        IpcException? unlink = Assert.Throws<IpcException>(() => NamedSemaphore.Unlink(name));

        Assert.That(open!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(open.Operation, Is.EqualTo("sem_open"));
        Assert.That(unlink!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(unlink.Message, Is.EqualTo($"sem_unlink('{name}'): ENOENT (No such file or directory)"));
        Assert.That(NamedSemaphore.TryUnlink(name), Is.False);
    }

    [Test]
    public void The_semaphore_lives_in_dev_shm_until_unlinked_with_the_mode_applied_exactly()
    {
        string name = NewName("file");
        const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        using NamedSemaphore sem = NamedSemaphore.Create(name, mode: Mode);
        string path = "/dev/shm/sem." + name[1..];

        Assert.That(File.Exists(path), Is.True);
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Mode));
        NamedSemaphore.Unlink(name);
        Assert.That(File.Exists(path), Is.False);
        sem.Post();
        Assert.That(sem.Value, Is.EqualTo(1), "an unlinked semaphore keeps working for those that have it open");
    }

    [Test]
    public void A_disposed_semaphore_throws_ObjectDisposedException()
    {
        NamedSemaphore sem = NamedSemaphore.Create(NewName("disposed"), initialValue: 1);
        sem.Dispose();
        sem.Dispose();

        Assert.That(sem.Handle.IsClosed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => sem.Wait());
        Assert.Throws<ObjectDisposedException>(() => sem.Wait(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => sem.TryWait());
        Assert.Throws<ObjectDisposedException>(() => sem.Post());
        Assert.Throws<ObjectDisposedException>(() => _ = sem.Value);
    }

    [TestCase("noslash")]
    [TestCase("/a/b")]
    public void Malformed_names_are_rejected_before_the_kernel(string name)
    {
        Assert.Throws<ArgumentException>(() => NamedSemaphore.Create(name));
        Assert.Throws<ArgumentException>(() => NamedSemaphore.Open(name));
        Assert.Throws<ArgumentException>(() => NamedSemaphore.TryUnlink(name));
    }

    private string NewName(string what)
    {
        string name = TestNames.Posix($"{Tag}-{what}");
        _names.Add(name);
        return name;
    }
}
