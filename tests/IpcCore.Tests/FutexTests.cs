using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed unsafe class FutexTests
{
    private const string Tag = "futex";
    private static readonly TimeSpan s_peerTimeout = TimeSpan.FromSeconds(30);
    private readonly List<string> _names = [];

    [TearDown]
    public void UnlinkNames()
    {
        foreach (string name in _names)
        {
            SharedMemory.TryUnlink(name);
        }
        _names.Clear();
    }

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    [Test]
    public void Wait_returns_ValueChanged_when_the_word_does_not_hold_the_expected_value()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);
        FutexWord word = region.GetFutexWord(8);
        word.Value = 5;

        Assert.That(word.Wait(4, TimeSpan.FromSeconds(5)), Is.EqualTo(FutexWaitResult.ValueChanged));
        Assert.That(Futex.Wait(word.Address, 4), Is.EqualTo(FutexWaitResult.ValueChanged));
    }

    [Test]
    public void Wait_times_out_after_a_relative_timeout_or_at_an_absolute_deadline()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);
        FutexWord word = region.GetFutexWord(0);

        var clock = Stopwatch.StartNew();
        Assert.That(word.Wait(0, TimeSpan.FromMilliseconds(50)), Is.EqualTo(FutexWaitResult.TimedOut));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)));

        clock.Restart();
        Assert.That(word.Wait(0, MonotonicClock.NowNs + 50_000_000), Is.EqualTo(FutexWaitResult.TimedOut));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)));

        Assert.That(word.Wait(0, MonotonicClock.NowNs - 1), Is.EqualTo(FutexWaitResult.TimedOut));
        Assert.That(word.Wait(0, TimeSpan.Zero), Is.EqualTo(FutexWaitResult.TimedOut));
    }

    [Test]
    public void Wake_without_waiters_wakes_nobody()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);

        Assert.That(region.GetFutexWord(4).Wake(), Is.Zero);
        Assert.That(Futex.Wake(region.GetFutexWord(4).Address, 1), Is.Zero);
    }

    [Test]
    public void A_thread_waiting_on_a_word_is_woken_by_another()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);
        FutexWord word = region.GetFutexWord(64);

        var waiter = Task.Factory.StartNew(() => WaitUntilChanged(word, 0, TimeSpan.FromSeconds(10)), TaskCreationOptions.LongRunning);
        Thread.Sleep(50);
        word.Value = 1;
        word.Wake();

        Assert.That(waiter.Wait(TimeSpan.FromSeconds(15)), Is.True);
        Assert.That(waiter.Result, Is.AnyOf(FutexWaitResult.Woken, FutexWaitResult.ValueChanged));
    }

    [Test]
    public void The_ref_overloads_work_on_a_word_in_unmanaged_memory()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);
        ref uint word = ref Unsafe.AsRef<uint>(region.Pointer + 12);
        word = 3;

        Assert.That(Futex.Wait(ref word, 2), Is.EqualTo(FutexWaitResult.ValueChanged));
        Assert.That(Futex.Wait(ref word, 3, TimeSpan.FromMilliseconds(10)), Is.EqualTo(FutexWaitResult.TimedOut));
        Assert.That(Futex.Wait(ref word, 3, MonotonicClock.NowNs + 10_000_000), Is.EqualTo(FutexWaitResult.TimedOut));
        Assert.That(Futex.Wake(ref word), Is.Zero);
    }

    [Test]
    public void Misaligned_null_and_out_of_bounds_words_are_rejected()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);

        Assert.Throws<ArgumentException>(() => region.GetFutexWord(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetFutexWord(4093));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetFutexWord(4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetFutexWord(-4));
        Assert.That(region.GetFutexWord(4092).Value, Is.Zero);
        Assert.Throws<ArgumentException>(() => Futex.Wait((uint*)(region.Pointer + 1), 0, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => Futex.Wake((uint*)(region.Pointer + 2)));
        Assert.Throws<ArgumentNullException>(() => Futex.Wait(null, 0, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => _ = new FutexWord(null));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetFutexWord(0).Wake(0));
    }

    [Test]
    public void FutexWord_atomics_and_equality()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(4096);
        FutexWord word = region.GetFutexWord(16);

        Assert.That(word.Increment(), Is.EqualTo(1u));
        Assert.That(word.CompareExchange(5, 1), Is.EqualTo(1u));
        Assert.That(word.CompareExchange(6, 1), Is.EqualTo(5u));
        Assert.That(word.Exchange(7), Is.EqualTo(5u));
        Assert.That(word.Value, Is.EqualTo(7u));
        Assert.That(word == region.GetFutexWord(16), Is.True);
        Assert.That(word != region.GetFutexWord(20), Is.True);
        Assert.That((nint)word.Address, Is.EqualTo((nint)(region.Pointer + 16)));
    }

    [Test]
    public void A_peer_waiting_on_shared_memory_is_woken_by_this_process()
    {
        string name = NewName("wake-peer");
        using SharedMemory shm = SharedMemory.Create(name, 4096);
        FutexWord word = shm.Region.GetFutexWord(128);
        word.Value = 0;

        using Peer peer = Peer.Start("futex-wait", name, "128", "0", "20000");
        string line = peer.ReadLine(s_peerTimeout);
        Assert.That(line, Does.StartWith("waiting 0x"));
        ulong peerAddress = ulong.Parse(line["waiting 0x".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        // Wake only once the peer is asleep in futex(2) on its address of the word, so it must report
        // Woken (not ValueChanged, which a wake before its wait would give).
        bool? blocked = WaitUntilBlockedInFutex(peer.Pid, peer.Pid, peerAddress, s_peerTimeout);
        Assert.That(blocked, Is.Not.False, "the peer never blocked in futex(2)");
        if (blocked is null)
        {
            Thread.Sleep(500);
        }
        word.Value = 1;
        int woken = word.Wake();

        int exitCode = peer.WaitForExit(s_peerTimeout);
        TestContext.Out.WriteLine($"peer blocked in futex(2): {blocked?.ToString() ?? "unknown (no /proc access)"}; woken {woken}");
        if (blocked == true)
        {
            Assert.That(woken, Is.EqualTo(1));
            Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("Woken 1"));
            Assert.That(exitCode, Is.Zero, peer.StandardErrorSoFar);
        }
        else
        {
            Assert.That(exitCode, Is.AnyOf(0, 4), peer.StandardErrorSoFar);
        }
    }

    [Test]
    public void A_peer_wakes_this_process_waiting_on_shared_memory()
    {
        string name = NewName("wake-test");
        using SharedMemory shm = SharedMemory.Create(name, 4096);
        FutexWord word = shm.Region.GetFutexWord(256);
        word.Value = 0;
        (int pid, int tid) = CurrentThreadIds();
        string address = "0x" + ((nuint)word.Address).ToString("x", CultureInfo.InvariantCulture);

        using Peer peer = Peer.Start("futex-wake", name, "256", "7",
            pid.ToString(CultureInfo.InvariantCulture), tid.ToString(CultureInfo.InvariantCulture), address);
        Assert.That(peer.ReadLine(s_peerTimeout), Is.EqualTo("ready"));

        // This thread waits; the peer watches /proc for it to be asleep on the word, then stores and wakes.
        FutexWaitResult result = WaitUntilChanged(word, 0, s_peerTimeout);

        Assert.That(word.Value, Is.EqualTo(7u));
        string report = peer.ReadLine(s_peerTimeout);
        Assert.That(peer.WaitForExit(s_peerTimeout), Is.Zero, peer.StandardErrorSoFar);
        TestContext.Out.WriteLine($"peer: {report}; this thread: {result}");
        if (report.EndsWith(" verified", StringComparison.Ordinal))
        {
            Assert.That(report, Is.EqualTo("woke 1 verified"));
            Assert.That(result, Is.EqualTo(FutexWaitResult.Woken));
        }
        else
        {
            Assert.That(result, Is.AnyOf(FutexWaitResult.Woken, FutexWaitResult.ValueChanged));
        }
    }

    private string NewName(string what)
    {
        string name = TestNames.Posix($"{Tag}-{what}");
        _names.Add(name);
        return name;
    }

    /// <summary>Waits while the word holds <paramref name="expected"/>, past spurious wake-ups; fails on timeout.</summary>
    private static FutexWaitResult WaitUntilChanged(FutexWord word, uint expected, TimeSpan timeout)
    {
        long deadline = MonotonicClock.NowNs + (long)timeout.TotalMilliseconds * 1_000_000;
        while (true)
        {
            FutexWaitResult result = word.Wait(expected, deadline);
            if (result == FutexWaitResult.TimedOut)
            {
                Assert.Fail($"the word still held {expected} after {timeout}");
            }
            if (word.Value != expected)
            {
                return result;
            }
        }
    }

    /// <summary>The pid and the kernel thread id of the calling thread, from /proc/thread-self.</summary>
    private static (int Pid, int Tid) CurrentThreadIds()
    {
        // The link reads "<pid>/task/<tid>".
        string target = new FileInfo("/proc/thread-self").LinkTarget ?? throw new InvalidOperationException("/proc/thread-self is not a link");
        string[] parts = target.Split('/');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Polls /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall until the thread sits in futex(2) with
    /// <paramref name="address"/> as its first argument: true when seen, false on timeout, null when
    /// the file cannot be read (no ptrace access to the peer).
    /// </summary>
    private static bool? WaitUntilBlockedInFutex(int pid, int tid, ulong address, TimeSpan timeout)
    {
        string path = $"/proc/{pid}/task/{tid}/syscall";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            string line;
            try
            {
                line = File.ReadAllText(path);
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                return null;
            }
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // futex is syscall 202 on x86-64 and 98 on arm64.
            if (fields.Length > 1 && (fields[0] == "202" || fields[0] == "98")
                && ulong.Parse(fields[1].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) == address)
            {
                return true;
            }
            Thread.Sleep(5);
        }
        return false;
    }
}
