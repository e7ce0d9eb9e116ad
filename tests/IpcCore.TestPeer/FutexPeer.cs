using System.Globalization;

namespace IpcCore.TestPeer;

/// <summary>Peer commands for the futex tests: both sides map the same shared memory object.</summary>
internal static class FutexPeer
{
    /// <summary>
    /// <c>futex-wait &lt;shm&gt; &lt;offset&gt; &lt;expected&gt; &lt;timeoutMs&gt;</c>: maps the object, prints
    /// "waiting 0x&lt;address&gt;" and then waits on the word while it holds <c>expected</c>. Exits 0 when
    /// a wake ended the wait and the word had changed, 3 on timeout, 4 when the word changed before the
    /// wait began (the test woke too early). Prints the result and the word's value.
    /// </summary>
    [PeerCommand("futex-wait")]
    public static unsafe int Wait(string[] args)
    {
        string name = args[0];
        long offset = long.Parse(args[1], CultureInfo.InvariantCulture);
        uint expected = uint.Parse(args[2], CultureInfo.InvariantCulture);
        long deadline = MonotonicClock.NowNs + long.Parse(args[3], CultureInfo.InvariantCulture) * 1_000_000;

        using SharedMemory shm = SharedMemory.Open(name);
        FutexWord word = shm.Region.GetFutexWord(offset);
        Console.WriteLine("waiting 0x" + ((nuint)word.Address).ToString("x", CultureInfo.InvariantCulture));
        while (true)
        {
            FutexWaitResult result = word.Wait(expected, deadline);
            uint value = word.Value;
            if (result == FutexWaitResult.TimedOut)
            {
                Console.WriteLine($"TimedOut {value}");
                return 3;
            }
            if (value != expected)
            {
                Console.WriteLine($"{result} {value}");
                return result == FutexWaitResult.Woken ? 0 : 4;
            }
            // A spurious wake-up or a signal: the word is unchanged, so wait again.
        }
    }

    /// <summary>
    /// <c>futex-wake &lt;shm&gt; &lt;offset&gt; &lt;value&gt; &lt;pid&gt; &lt;tid&gt; &lt;address&gt;</c>: maps the
    /// object, prints "ready", waits until thread <c>tid</c> of <c>pid</c> is blocked in futex(2) on
    /// <c>address</c> (its address of the word, read from /proc), then stores <c>value</c> and wakes all
    /// waiters. Prints "woke &lt;n&gt; verified" (or "unverified" when /proc could not be read and it
    /// only slept instead). Exits 0 when it woke a waiter, or could not verify.
    /// </summary>
    [PeerCommand("futex-wake")]
    public static int Wake(string[] args)
    {
        string name = args[0];
        long offset = long.Parse(args[1], CultureInfo.InvariantCulture);
        uint value = uint.Parse(args[2], CultureInfo.InvariantCulture);
        int pid = int.Parse(args[3], CultureInfo.InvariantCulture);
        int tid = int.Parse(args[4], CultureInfo.InvariantCulture);
        ulong address = ParseHex(args[5]);

        using SharedMemory shm = SharedMemory.Open(name);
        FutexWord word = shm.Region.GetFutexWord(offset);
        Console.WriteLine("ready");

        bool? blocked = WaitUntilBlockedInFutex(pid, tid, address, TimeSpan.FromSeconds(15));
        if (blocked == false)
        {
            Console.WriteLine("woke 0 never-blocked");
            return 5;
        }
        if (blocked is null)
        {
            Thread.Sleep(500);
        }
        word.Value = value;
        int woken = word.Wake();
        Console.WriteLine($"woke {woken} {(blocked == true ? "verified" : "unverified")}");
        return woken >= 1 || blocked is null ? 0 : 6;
    }

    /// <summary>
    /// Polls /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall until the thread sits in futex(2) with
    /// <paramref name="address"/> as first argument: true when seen, false on timeout, null when the
    /// file cannot be read (no ptrace access).
    /// </summary>
    private static bool? WaitUntilBlockedInFutex(int pid, int tid, ulong address, TimeSpan timeout)
    {
        string path = $"/proc/{pid}/task/{tid}/syscall";
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
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
            if (fields.Length > 1 && (fields[0] == "202" || fields[0] == "98") && ParseHex(fields[1]) == address)
            {
                return true;
            }
            Thread.Sleep(5);
        }
        return false;
    }

    private static ulong ParseHex(string text)
        => ulong.Parse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
