using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// <c>myipchub gc [--dir DIR] [--dry-run]</c> against objects planted for a dead hub pid: shared memory and a
/// semaphore in /dev/shm, a message queue (when /dev/mqueue is mounted), FIFOs and the hub files in DIR.
/// </summary>
/// <remarks>
/// Planted names hold a client id unique to the test (900000 + random); only lines about them are checked, since
/// gc also removes what other hubs left. Not parallel with the other fixtures, whose starting hubs sweep dead
/// hubs' shm and mq objects too; hubs of other test assemblies still may, so a scenario whose planted objects
/// vanish under it is retried.
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed class GcTests : HubTest
{
    private const int Attempts = 4;

    private protected override string Tag => "gc";

    [Test]
    public void DryRunListsADeadHubsObjects_AndRemovesNothing_GcRemovesThem_ASecondGcHasNothingToClean()
    {
        for (int attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(Env.Directory);
            using var planted = new Planted(DeadPid(), Env.Directory);
            using var live = new Planted(Environment.ProcessId, Env.Directory, planted.ClientId);
            if (Scenario(planted, live, attempt == Attempts))
            {
                return;
            }
            TestContext.Progress.WriteLine($"attempt {attempt}: another process swept our planted objects; trying again");
        }
    }

    /// <summary>False when someone else removed planted objects in between (and this is not the last attempt).</summary>
    private bool Scenario(Planted planted, Planted live, bool last)
    {
        ChildProcess dry = Gc("--dir", Env.Directory, "--dry-run");
        if (!last && !planted.AllExist())
        {
            return false;
        }
        Assert.That(dry.ExitCode, Is.Zero, dry.Describe());
        Assert.That(planted.Mine(dry.StdoutLines()), Is.EquivalentTo(planted.Expected.Select(e => "would remove " + e)), dry.Describe());
        Assert.That(LastLine(dry), Does.Match(@"^\d+ stale objects? would be removed$"), dry.Describe());
        Assert.That(planted.AllExist(), Is.True, "--dry-run removes nothing\n" + dry.Describe());
        CheckMqueueWarning(dry);

        ChildProcess gc = Gc("--dir", Env.Directory);
        var removed = planted.Mine(gc.StdoutLines());
        if (!last && removed.Count < planted.Expected.Count && planted.NoneExist())
        {
            return false;
        }
        Assert.That(gc.ExitCode, Is.Zero, gc.Describe());
        Assert.That(removed, Is.EquivalentTo(planted.Expected.Select(e => "removed " + e)), gc.Describe());
        Assert.That(LastLine(gc), Does.Match(@"^\d+ stale objects? removed$"), gc.Describe());
        foreach (string path in planted.Paths)
        {
            Assert.That(File.Exists(path), Is.False, $"{path} after gc\n{gc.Describe()}");
        }
        Assert.That(live.AllExist(), Is.True, "objects named after a live process stay\n" + gc.Describe());
        Assert.That(live.Mine(dry.StdoutLines().Concat(gc.StdoutLines())), Is.Empty, "and are never listed");

        // Other tests may leave a dead hub's objects meanwhile (a SIGKILLed hub): then gc cleans those, and again.
        ChildProcess again = Gc("--dir", Env.Directory);
        for (int i = 0; i < 3 && LastLine(again) != "nothing to clean"; i++)
        {
            Assert.That(planted.Mine(again.StdoutLines()), Is.Empty, again.Describe());
            again = Gc("--dir", Env.Directory);
        }
        Assert.That(again.ExitCode, Is.Zero, again.Describe());
        Assert.That(again.StdoutLines(), Is.EqualTo(new[] { "nothing to clean" }), again.Describe());
        return true;
    }

    [Test]
    public void AStaleHubDirectory_InboxSocketAndLock_AreListedThenRemoved()
    {
        Directory.CreateDirectory(Env.Directory);
        int pid = DeadPid();
        string inbox = Path.Combine(Env.Directory, "publish.fifo");
        Fifo.Create(inbox);
        using (UnixSocket socket = UnixSocket.CreateStream())
        {
            socket.Bind(Env.SocketPath); // closed: the file stays, nobody listens
        }
        File.WriteAllText(Env.LockPath, pid.ToString(CultureInfo.InvariantCulture) + "\n");
        string gone = $"hub pid {pid} is gone";
        string[] expected =
        [
            $"{inbox} (inbox FIFO; {gone})",
            $"{Env.SocketPath} (socket; {gone}; nobody listens on it)",
            $"{Env.LockPath} (lock file; {gone})",
        ];

        ChildProcess dry = Gc("--dir", Env.Directory, "--dry-run");
        Assert.That(dry.ExitCode, Is.Zero, dry.Describe());
        Assert.That(InDirectory(dry.StdoutLines()), Is.EqualTo(expected.Select(e => "would remove " + e)), dry.Describe());
        Assert.That(new[] { inbox, Env.SocketPath, Env.LockPath }.All(File.Exists), Is.True, "--dry-run removes nothing\n" + dry.Describe());

        ChildProcess gc = Gc("--dir", Env.Directory);
        Assert.That(gc.ExitCode, Is.Zero, gc.Describe());
        Assert.That(InDirectory(gc.StdoutLines()), Is.EqualTo(expected.Select(e => "removed " + e)), gc.Describe());
        Assert.That(Directory.EnumerateFileSystemEntries(Env.Directory), Is.Empty, gc.Describe());

        ChildProcess again = Gc("--dir", Env.Directory);
        Assert.That(InDirectory(again.StdoutLines()), Is.Empty, again.Describe());
    }

    [Test]
    public void AfterAHubIsKilled_GcRemovesItsSocketLockAndInbox_AndANewHubStartsCleanly()
    {
        HubProcess killed = StartHub();
        killed.Child.Signal(ChildProcess.SigKill);
        killed.Child.WaitForExit(Timeouts.Message, "the killed hub");
        Assert.That(File.Exists(Env.SocketPath) && File.Exists(Env.LockPath), Is.True, "a SIGKILLed hub leaves hub.sock and hub.lock");

        string inbox = Path.Combine(Env.Directory, "publish.fifo");
        bool hasInbox = File.Exists(inbox); // unless the hub runs with --no-inbox

        ChildProcess gc = Gc("--dir", Env.Directory);
        Assert.That(gc.ExitCode, Is.Zero, gc.Describe());
        string gone = string.Create(CultureInfo.InvariantCulture, $"hub pid {killed.Pid} is gone");
        var expected = new List<string>
        {
            $"removed {Env.SocketPath} (socket; {gone}; nobody listens on it)",
            $"removed {Env.LockPath} (lock file; {gone})",
        };
        if (hasInbox)
        {
            expected.Add($"removed {inbox} (inbox FIFO; {gone})");
        }
        Assert.That(InDirectory(gc.StdoutLines()), Is.EquivalentTo(expected), gc.Describe());
        Assert.That(Directory.EnumerateFileSystemEntries(Env.Directory), Is.Empty, "the killed hub's files are gone\n" + gc.Describe());

        HubProcess next = StartHub();
        next.StopGracefully();
    }

    [Test]
    public void GcWhileAHubRuns_LeavesThatHubsFilesAlone_ButRemovesADeadHubsFifosInItsDirectory()
    {
        HubProcess hub = StartHub();
        string[] hubFiles = [.. Directory.EnumerateFileSystemEntries(Env.Directory)];
        Assert.That(hubFiles, Does.Contain(Env.SocketPath).And.Contain(Env.LockPath));
        int dead = DeadPid();
        ulong id = Planted.NewClientId();
        // Named after the running hub: a hub's objects while it runs.
        string liveFifo = Path.Combine(Env.Directory, $"ipchub.{hub.Pid}.{id}.c2h");
        string liveShm = $"/ipchub.{hub.Pid}.{id}.h2c";
        string deadFifo = Path.Combine(Env.Directory, $"ipchub.{dead}.{id}.c2h");
        try
        {
            Fifo.Create(liveFifo);
            SharedMemory.Create(liveShm, 4096).Dispose();
            Fifo.Create(deadFifo);

            ChildProcess gc = Gc("--dir", Env.Directory);
            Assert.That(gc.ExitCode, Is.Zero, gc.Describe());
            Assert.That(InDirectory(gc.StdoutLines()), Is.EqualTo(new[] { $"removed {deadFifo} (FIFO; hub pid {dead} is gone)" }), gc.Describe());
            Assert.That(gc.StdoutLines().Where(l => l.Contains($"ipchub.{hub.Pid}.", StringComparison.Ordinal)), Is.Empty, gc.Describe());
            Assert.That(Directory.EnumerateFileSystemEntries(Env.Directory), Is.EquivalentTo(hubFiles.Append(liveFifo)), gc.Describe());
            Assert.That(File.Exists("/dev/shm" + liveShm), Is.True, "the running hub's shared memory stays\n" + gc.Describe());
            Assert.That(hub.IsAlive, Is.True);
            using UnixSocket client = UnixSocket.CreateStream();
            Assert.DoesNotThrow(() => client.Connect(Env.SocketPath), "the hub still listens");
        }
        finally
        {
            Fifo.TryUnlink(liveFifo);
            Fifo.TryUnlink(deadFifo);
            SharedMemory.TryUnlink(liveShm);
        }
        hub.StopGracefully();
    }

    [Test]
    public void GcHelp_DescribesIt_AndTheRootHelpListsIt()
    {
        ChildProcess help = Env.StartClient(Tools.Hub, ["gc", "--help"]);
        Assert.That(help.WaitForExit(Timeouts.Message, "myipchub gc --help"), Is.Zero, help.Describe());
        string text = help.StdoutText();
        Assert.That(text, Does.Contain("--dry-run").And.Contain("--dir").And.Contain("Remove the IPC objects of hubs that are no longer running"),
            help.Describe());

        ChildProcess root = Env.StartClient(Tools.Hub, ["--help"]);
        Assert.That(root.WaitForExit(Timeouts.Message, "myipchub --help"), Is.Zero, root.Describe());
        Assert.That(root.StdoutLines().Any(l => Regex.IsMatch(l, @"^\s+gc\s")), Is.True, root.Describe());
    }

    [Test]
    public void GcWithAnUnknownOption_Exits2()
    {
        ChildProcess gc = Env.StartClient(Tools.Hub, ["gc", "--no-such-option"]);
        Assert.That(gc.WaitForExit(Timeouts.Message, "myipchub gc --no-such-option"), Is.EqualTo(2), gc.Describe());
        Assert.That(gc.StdoutLines(), Is.Empty, gc.Describe());
    }

    // --- helpers ------------------------------------------------------------------------------

    /// <summary>Runs <c>myipchub gc ARGS</c> to its end.</summary>
    private ChildProcess Gc(params string[] args)
    {
        ChildProcess gc = Env.StartClient(Tools.Hub, ["gc", .. args]);
        gc.CloseStdin();
        gc.WaitForExit(Timeouts.Message, $"myipchub gc {string.Join(' ', args)}");
        return gc;
    }

    private static string LastLine(ChildProcess child)
    {
        IReadOnlyList<string> lines = child.StdoutLines();
        return lines.Count > 0 ? lines[^1] : string.Empty;
    }

    /// <summary>Starts a hub on the test's directory and waits for its "Listening for connections on" line.</summary>
    private HubProcess StartHub()
    {
        HubProcess hub = Env.StartHubNoWait();
        hub.Child.WaitForStdoutLine(l => l.Trim() == $"Listening for connections on {Env.SocketPath}", Timeouts.Start, "the hub should listen");
        return hub;
    }

    /// <summary>The output lines about the test's directory.</summary>
    private List<string> InDirectory(IEnumerable<string> lines)
        => [.. lines.Where(l => l.Contains(" " + Env.Directory + "/", StringComparison.Ordinal))];

    private static void CheckMqueueWarning(ChildProcess gc)
    {
        const string warning = "myipchub: warning: the POSIX message-queue namespace is not mounted at /dev/mqueue, so its queues cannot be listed (mount -t mqueue none /dev/mqueue)";
        Assert.That(gc.StderrLines().Contains(warning), Is.EqualTo(!MqueueMounted()), gc.Describe());
    }

    /// <summary>The pid of a process that ran and was reaped (a hub that is gone).</summary>
    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start /bin/true");
        process.WaitForExit();
        int pid = process.Id;
        var clock = Stopwatch.StartNew();
        while (ProcessInfo.IsAlive(pid))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Fail($"/bin/true (pid {pid}) still exists 10 s after it exited");
            }
            Thread.Sleep(10);
        }
        return pid;
    }

    private static bool MqueueMounted()
        => File.ReadLines("/proc/self/mounts").Any(l => l.Split(' ') is [_, "/dev/mqueue", "mqueue", ..]);

    /// <summary>
    /// A hub's per-client objects, planted for a pid and a unique client id: shared memory and a semaphore
    /// (/dev/shm), a message queue (when the mq namespace is mounted), two FIFOs in the hub directory; as
    /// gc shows them (<c>PATH (KIND; REASON)</c>). Everything planted is removed on dispose.
    /// </summary>
    private sealed class Planted : IDisposable
    {
        private readonly List<string> _shm = [];
        private readonly List<string> _semaphores = [];
        private readonly List<string> _queues = [];
        private readonly List<string> _fifos = [];
        private readonly List<string> _expected = [];
        private readonly List<string> _paths = [];

        private readonly int _pid;

        public Planted(int pid, string directory, ulong? clientId = null)
        {
            _pid = pid;
            ClientId = clientId ?? NewClientId();
            string baseName = $"ipchub.{pid}.{ClientId}";
            string reason = $"hub pid {pid} is gone";
            try
            {
                SharedMemory.Create($"/{baseName}.h2c", 4096).Dispose();
                _shm.Add($"/{baseName}.h2c");
                Add($"/dev/shm/{baseName}.h2c", "shared memory", reason);

                NamedSemaphore.Create($"/{baseName}.h2c.space").Dispose();
                _semaphores.Add($"/{baseName}.h2c.space");
                Add($"/dev/shm/sem.{baseName}.h2c.space", "semaphore", reason);

                if (MqueueMounted())
                {
                    MessageQueue.Create($"/{baseName}.c2h", 1, 64).Dispose();
                    _queues.Add($"/{baseName}.c2h");
                    Add($"/dev/mqueue/{baseName}.c2h", "message queue", reason);
                }

                foreach (string direction in (string[])["c2h", "h2c"])
                {
                    string fifo = Path.Combine(directory, $"{baseName}.{direction}");
                    Fifo.Create(fifo);
                    _fifos.Add(fifo);
                    Add(fifo, "FIFO", reason);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public ulong ClientId { get; }

        /// <summary>gc's description of each object: <c>PATH (KIND; REASON)</c>.</summary>
        public List<string> Expected => _expected;

        public List<string> Paths => _paths;

        public static ulong NewClientId() => 900_000UL + (ulong)Random.Shared.Next(1, 99_000_000);

        private void Add(string path, string kind, string reason)
        {
            _paths.Add(path);
            _expected.Add($"{path} ({kind}; {reason})");
        }

        /// <summary>The lines about these objects (this pid and client id).</summary>
        public List<string> Mine(IEnumerable<string> lines)
        {
            string marker = string.Create(CultureInfo.InvariantCulture, $"ipchub.{_pid}.{ClientId}.");
            return [.. lines.Where(l => l.Contains(marker, StringComparison.Ordinal))];
        }

        public bool AllExist() => _paths.All(File.Exists);

        public bool NoneExist() => !_paths.Any(File.Exists);

        public void Dispose()
        {
            foreach (string name in _shm)
            {
                SharedMemory.TryUnlink(name);
            }
            foreach (string name in _semaphores)
            {
                NamedSemaphore.TryUnlink(name);
            }
            foreach (string name in _queues)
            {
                MessageQueue.TryUnlink(name);
            }
            foreach (string path in _fifos)
            {
                Fifo.TryUnlink(path);
            }
        }
    }
}
