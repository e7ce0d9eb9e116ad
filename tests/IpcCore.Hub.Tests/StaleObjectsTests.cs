using System.Diagnostics;
using System.Globalization;
using System.Text;
using IpcCore.Hub.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

/// <summary>
/// <see cref="StaleObjects"/>: a dead hub's objects in /dev/shm (shared memory, semaphores), the mq namespace and
/// a hub directory (FIFOs; publish.fifo, hub.sock, hub.lock) are found and removed; a live hub's never are.
/// </summary>
/// <remarks>
/// Every planted name holds a client id unique to the test (900000 + random), and only those names are looked at.
/// Not parallel with the other fixtures: every hub that starts sweeps the dead hubs' shm and mq objects, ours too.
/// Hubs of other test assemblies may still do so: a scenario whose planted objects vanish under it is retried.
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed class StaleObjectsTests
{
    private const int Attempts = 4;

    private static int LivePid => Environment.ProcessId;

    // --- per-client objects -------------------------------------------------------------------

    [Test]
    public void A_dead_hubs_objects_are_found_in_every_namespace_a_dry_run_keeps_them_and_Remove_removes_them()
    {
        for (int attempt = 1; ; attempt++)
        {
            using var dir = new TempHubDirectory("stale");
            Directory.CreateDirectory(dir.Path);
            using var planted = new Planted(DeadPid(), dir.Path);
            using var live = new Planted(LivePid, dir.Path, planted.ClientId);
            planted.Decoys();
            if (Scenario(planted, live, attempt == Attempts))
            {
                return;
            }
            TestContext.Progress.WriteLine($"attempt {attempt}: another process swept our planted objects; trying again");
        }
    }

    /// <summary>False when someone else removed planted objects in between (and this is not the last attempt).</summary>
    private static bool Scenario(Planted planted, Planted live, bool last)
    {
        IReadOnlyList<StaleObject> found = planted.Mine(StaleObjects.Find(planted.Directory, includeDirectoryFiles: false));
        if (!last && !planted.AllExist())
        {
            return false;
        }
        Assert.That(Keys(found), Is.EquivalentTo(Keys(planted.Expected)), "Find lists exactly the dead hub's objects (and no live or ill-named one)");
        Assert.That(found.Select(o => o.HubPid), Is.All.EqualTo(planted.Pid));
        Assert.That(found.Select(o => o.Reason), Is.All.EqualTo($"hub pid {planted.Pid} is gone"));
        StaleObject shm = found.Single(o => o.Kind == StaleObjectKind.SharedMemory);
        Assert.That(shm.ToString(), Is.EqualTo($"/dev/shm/ipchub.{planted.Pid}.{planted.ClientId}.c2h (shared memory; hub pid {planted.Pid} is gone)"));

        StaleSweepResult dry = StaleObjects.Sweep(planted.Directory, includeDirectoryFiles: false, dryRun: true);
        if (!last && !planted.AllExist())
        {
            return false;
        }
        Assert.That(dry.DryRun, Is.True);
        Assert.That(Keys(planted.Mine(dry.Objects)), Is.EquivalentTo(Keys(planted.Expected)), "the dry run lists them");
        Assert.That(planted.AllExist(), Is.True, "a dry run removes nothing");
        Assert.That(dry.Warnings.Contains(StaleObjects.MessageQueueNotMounted), Is.EqualTo(!MqueueMounted()),
            "the mq namespace is reported once when it cannot be listed");

        var log = new TestLog();
        // Only ours: a real Sweep would also take whatever other tests planted.
        StaleSweepResult result = StaleObjects.Remove(found, log.CreateLogger("test"));
        if (!last && Keys(result.Objects).Count != Keys(planted.Expected).Count && planted.NoneExist())
        {
            return false;
        }
        Assert.That(result.Failures, Is.Empty);
        Assert.That(Keys(result.Objects), Is.EquivalentTo(Keys(planted.Expected)), "Remove reports each object it removed");
        foreach (StaleObject o in planted.Expected)
        {
            Assert.That(File.Exists(o.Path), Is.False, $"{o.Path} is gone");
        }
        Assert.That(log.Contains(120, $"removed the stale object {shm}"), Is.True, "each removal is logged");
        Assert.That(live.AllExist(), Is.True, "a live hub's objects stay");
        Assert.That(planted.DecoysExist(), Is.True, "names that are not a hub's stay");
        return true;
    }

    [Test]
    public void A_starting_hub_sweeps_every_namespace_and_the_FIFOs_of_its_directory()
    {
        for (int attempt = 1; ; attempt++)
        {
            using var dir = new TempHubDirectory("stalestart");
            Directory.CreateDirectory(dir.Path);
            using var planted = new Planted(DeadPid(), dir.Path);
            var log = new TestLog();
            using (var server = new HubServer(new HubOptions { Directory = dir.Path }, log))
            {
                server.Start();
            }
            var removedLines = planted.Expected.Where(o => log.Contains(120, $"removed the stale object {o}")).ToList();
            if (attempt < Attempts && removedLines.Count < planted.Expected.Count)
            {
                TestContext.Progress.WriteLine($"attempt {attempt}: another process swept our planted objects; trying again");
                continue;
            }
            Assert.That(planted.NoneExist(), Is.True, "the hub removed the dead hub's objects");
            Assert.That(removedLines, Is.EquivalentTo(planted.Expected), "and logged each (event 120)");
            return;
        }
    }

    [Test]
    public void Objects_named_after_a_live_process_are_never_listed_nor_removed()
    {
        using var dir = new TempHubDirectory("stalelive");
        Directory.CreateDirectory(dir.Path);
        using var live = new Planted(LivePid, dir.Path);
        StaleSweepResult dry = StaleObjects.Sweep(dir.Path, includeDirectoryFiles: true, dryRun: true);
        Assert.That(live.Mine(dry.Objects), Is.Empty);
        StaleSweepResult removed = StaleObjects.Remove(live.Expected);
        Assert.That(removed.Objects, Is.Empty, "Remove checks again that the hub is gone");
        Assert.That(live.AllExist(), Is.True);
    }

    [Test]
    public void A_failure_is_reported_for_its_object_with_the_errno_and_the_others_are_still_removed()
    {
        using var dir = new TempHubDirectory("stalefail");
        int pid = DeadPid();
        ulong id = Planted.NewClientId();
        string blocked = Path.Combine(dir.Path, $"ipchub.{pid}.{id}.c2h");
        string fine = Path.Combine(dir.Path, $"ipchub.{pid}.{id}.h2c");
        Directory.CreateDirectory(Path.Combine(blocked, "inside")); // unlink(2) of a directory: EISDIR
        Fifo.Create(fine);
        StaleObject[] objects =
        [
            new(StaleObjectKind.Fifo, blocked, pid, $"hub pid {pid} is gone"),
            new(StaleObjectKind.Fifo, fine, pid, $"hub pid {pid} is gone"),
        ];
        var log = new TestLog();
        StaleSweepResult result = StaleObjects.Remove(objects, log.CreateLogger("test"));
        Assert.That(result.Failures, Has.Count.EqualTo(1));
        StaleObjectFailure failure = result.Failures[0];
        Assert.That(failure.Object.Path, Is.EqualTo(blocked));
        Assert.That(failure.ErrorNumber, Is.EqualTo(21));
        Assert.That(failure.Message, Is.EqualTo($"unlink('{blocked}'): EISDIR (Is a directory)"));
        Assert.That(result.Objects.Select(o => o.Path), Is.EqualTo(new[] { fine }), "the sweep went on");
        Assert.That(File.Exists(fine), Is.False);
        Assert.That(log.Contains(121, $"could not remove the stale object {blocked} (FIFO): unlink('{blocked}'): EISDIR"), Is.True);
    }

    [TestCase("ipchub.123.4.c2h", false, 123)]
    [TestCase("ipchub.123.4.h2c", false, 123)]
    [TestCase("ipchub.123.18446744073709551615.h2c", false, 123)]
    [TestCase("ipchub.123.4.c2h.data", true, 123)]
    [TestCase("ipchub.123.4.h2c.space", true, 123)]
    [TestCase("ipchub.123.4.c2h.data", false, 0)]
    [TestCase("ipchub.123.4.c2h", true, 0)]
    [TestCase("ipchub.123.4.c2h.other", true, 0)]
    [TestCase("ipchub.123.4.in", false, 0)]
    [TestCase("ipchub.123.c2h", false, 0)]
    [TestCase("ipchub.123.4.c2h.bak", false, 0)]
    [TestCase("ipchub.abc.4.c2h", false, 0)]
    [TestCase("ipchub.0.4.c2h", false, 0)]
    [TestCase("ipchub.+5.4.c2h", false, 0)]
    [TestCase("ipchub.5.-4.c2h", false, 0)]
    [TestCase("ipchub.99999999999.4.c2h", false, 0)]
    [TestCase("ipchub..4.c2h", false, 0)]
    [TestCase("ipccore-test.123.4.c2h", false, 0)]
    [TestCase("publish.fifo", false, 0)]
    public void Only_exact_hub_names_count(string name, bool semaphore, int pid)
        => Assert.That(StaleObjects.ParseClientObject(name, semaphore), Is.EqualTo(pid));

    [Test]
    public void The_mq_namespace_is_seen_as_mounted_exactly_when_an_mqueue_filesystem_is_at_dev_mqueue()
        => Assert.That(StaleObjects.IsMessageQueueNamespaceMounted, Is.EqualTo(MqueueMounted()));

    // --- the directory's own files ------------------------------------------------------------

    [Test]
    public void A_dead_hubs_inbox_socket_and_lock_are_stale_only_while_nobody_holds_the_lock()
    {
        using var dir = new TempHubDirectory("stalefiles");
        Directory.CreateDirectory(dir.Path);
        int pid = DeadPid();
        string inbox = HubObjectNames.InboxPath(dir.Path);
        Fifo.Create(inbox);
        MakeStaleSocket(dir.SocketPath);
        File.WriteAllText(dir.LockPath, pid.ToString(CultureInfo.InvariantCulture) + "\n");
        string gone = $"hub pid {pid} is gone";

        Assert.That(InDirectory(StaleObjects.Find(dir.Path, includeDirectoryFiles: false), dir.Path), Is.Empty,
            "a hub sweeping at start (it holds the lock) leaves them alone");

        IReadOnlyList<StaleObject> found = InDirectory(StaleObjects.Find(dir.Path, includeDirectoryFiles: true), dir.Path);
        Assert.That(found.Select(o => o.ToString()), Is.EquivalentTo(new[]
        {
            $"{inbox} (inbox FIFO; {gone})",
            $"{dir.SocketPath} (socket; {gone}; nobody listens on it)",
            $"{dir.LockPath} (lock file; {gone})",
        }));
        Assert.That(found.Select(o => o.HubPid), Is.All.EqualTo(pid));
        Assert.That(InDirectory(StaleObjects.Sweep(dir.Path, includeDirectoryFiles: true, dryRun: true).Objects, dir.Path),
            Is.EquivalentTo(found));
        Assert.That(new[] { inbox, dir.SocketPath, dir.LockPath }.All(File.Exists), Is.True, "Find and a dry run remove nothing");
        Assert.That(File.ReadAllText(dir.LockPath), Is.EqualTo(pid.ToString(CultureInfo.InvariantCulture) + "\n"), "nor change the lock file");

        using (FileLock held = FileLock.TryAcquireExclusive(dir.LockPath) ?? throw new AssertionException("could not lock"))
        {
            Assert.That(InDirectory(StaleObjects.Find(dir.Path, includeDirectoryFiles: true), dir.Path), Is.Empty,
                "while the lock is held a hub runs: nothing of the directory is stale");
            StaleSweepResult refused = StaleObjects.Remove(found);
            Assert.That(refused.Objects, Is.Empty);
            Assert.That(refused.Failures, Is.Empty);
            Assert.That(refused.Warnings, Has.Some.Contains($"a hub now holds {dir.LockPath}"));
            Assert.That(new[] { inbox, dir.SocketPath, dir.LockPath }.All(File.Exists), Is.True, "Remove took the lock again, and could not");
        }

        StaleSweepResult result = StaleObjects.Remove(found);
        Assert.That(result.Failures, Is.Empty);
        Assert.That(result.Objects, Is.EquivalentTo(found));
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty, "inbox, socket and lock file are gone");
    }

    [Test]
    public void Without_a_lock_file_a_stale_socket_is_found_and_no_lock_file_is_left()
    {
        using var dir = new TempHubDirectory("stalesock");
        Directory.CreateDirectory(dir.Path);
        MakeStaleSocket(dir.SocketPath);

        IReadOnlyList<StaleObject> found = InDirectory(StaleObjects.Find(dir.Path, includeDirectoryFiles: true), dir.Path);
        Assert.That(found.Select(o => o.ToString()), Is.EqualTo(new[]
        {
            $"{dir.SocketPath} (socket; no hub holds {dir.LockPath}; nobody listens on it)",
        }));
        Assert.That(found[0].HubPid, Is.Zero, "no lock file names the hub");
        Assert.That(File.Exists(dir.LockPath), Is.False, "trying the lock left no lock file");

        StaleSweepResult result = StaleObjects.Remove(found);
        Assert.That(result.Objects, Is.EquivalentTo(found));
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty);
    }

    [Test]
    public void A_socket_someone_listens_on_is_not_stale()
    {
        using var dir = new TempHubDirectory("stalelisten");
        Directory.CreateDirectory(dir.Path);
        using UnixSocket listener = UnixSocket.CreateStream();
        listener.Bind(dir.SocketPath);
        listener.Listen();

        IReadOnlyList<StaleObject> found = InDirectory(StaleObjects.Find(dir.Path, includeDirectoryFiles: true), dir.Path);
        Assert.That(found, Is.Empty);
        Assert.That(File.Exists(dir.SocketPath), Is.True);
    }

    [Test]
    public void A_running_hubs_directory_has_nothing_stale_but_a_dead_hubs_FIFOs_in_it()
    {
        using InProcessHub hub = InProcessHub.Start("stalehub");
        string[] before = [.. Directory.EnumerateFileSystemEntries(hub.Directory.Path)];
        int pid = DeadPid();
        ulong id = Planted.NewClientId();
        string fifo = HubObjectNames.FifoPath(hub.Directory.Path, pid, id, HubObjectNames.ClientToHub);
        Fifo.Create(fifo);
        try
        {
            IReadOnlyList<StaleObject> found = InDirectory(StaleObjects.Find(hub.Directory.Path, includeDirectoryFiles: true), hub.Directory.Path);
            Assert.That(found.Select(o => o.ToString()), Is.EqualTo(new[] { $"{fifo} (FIFO; hub pid {pid} is gone)" }));
            StaleSweepResult result = StaleObjects.Remove(found);
            Assert.That(result.Objects, Is.EquivalentTo(found));
            Assert.That(Directory.EnumerateFileSystemEntries(hub.Directory.Path), Is.EquivalentTo(before), "the hub's own files stay");
            using UnixSocket client = UnixSocket.CreateStream();
            Assert.DoesNotThrow(() => client.Connect(hub.SocketPath), "the hub still listens");
        }
        finally
        {
            Fifo.TryUnlink(fifo);
        }
    }

    // --- helpers ------------------------------------------------------------------------------

    /// <summary>The pid of a process that ran and was reaped (a hub that is gone).</summary>
    internal static int DeadPid()
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

    private static void MakeStaleSocket(string path)
    {
        using UnixSocket socket = UnixSocket.CreateStream();
        socket.Bind(path); // closing it leaves the file, with nobody listening
    }

    private static IReadOnlyList<StaleObject> InDirectory(IEnumerable<StaleObject> objects, string directory)
        => [.. objects.Where(o => o.Path.StartsWith(directory + "/", StringComparison.Ordinal))];

    private static List<string> Keys(IEnumerable<StaleObject> objects) => [.. objects.Select(o => $"{o.Kind} {o.Path}")];

    /// <summary>
    /// A hub's per-client objects, planted for <see cref="Pid"/> and a unique client id: shared memory and a
    /// semaphore (/dev/shm), a message queue (when the mq namespace is mounted), two FIFOs in a directory.
    /// Everything planted is removed on dispose.
    /// </summary>
    private sealed class Planted : IDisposable
    {
        private readonly List<string> _shm = [];
        private readonly List<string> _semaphores = [];
        private readonly List<string> _queues = [];
        private readonly List<string> _files = [];
        private readonly List<string> _decoys = [];
        private readonly List<StaleObject> _expected = [];

        public Planted(int pid, string directory, ulong? clientId = null)
        {
            Pid = pid;
            Directory = directory;
            ClientId = clientId ?? NewClientId();
            try
            {
                string baseName = $"ipchub.{pid}.{ClientId}";
                string reason = $"hub pid {pid} is gone";

                SharedMemory.Create($"/{baseName}.c2h", 4096).Dispose();
                _shm.Add($"/{baseName}.c2h");
                _expected.Add(new StaleObject(StaleObjectKind.SharedMemory, $"/dev/shm/{baseName}.c2h", pid, reason));

                NamedSemaphore.Create($"/{baseName}.c2h.data").Dispose();
                _semaphores.Add($"/{baseName}.c2h.data");
                _expected.Add(new StaleObject(StaleObjectKind.Semaphore, $"/dev/shm/sem.{baseName}.c2h.data", pid, reason));

                if (MqueueMounted())
                {
                    MessageQueue.Create($"/{baseName}.h2c", 1, 64).Dispose();
                    _queues.Add($"/{baseName}.h2c");
                    _expected.Add(new StaleObject(StaleObjectKind.MessageQueue, $"/dev/mqueue/{baseName}.h2c", pid, reason));
                }

                foreach (string direction in (string[])[HubObjectNames.ClientToHub, HubObjectNames.HubToClient])
                {
                    string fifo = HubObjectNames.FifoPath(directory, pid, ClientId, direction);
                    Fifo.Create(fifo);
                    _files.Add(fifo);
                    _expected.Add(new StaleObject(StaleObjectKind.Fifo, fifo, pid, reason));
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int Pid { get; }

        public string Directory { get; }

        public ulong ClientId { get; }

        public List<StaleObject> Expected => _expected;

        public static ulong NewClientId() => 900_000UL + (ulong)Random.Shared.Next(1, 99_000_000);

        /// <summary>Names close to a hub's, with the same pid and id, that are not a hub's.</summary>
        public void Decoys()
        {
            string baseName = $"ipchub.{Pid}.{ClientId}";
            string shm = $"/dev/shm/{baseName}.c2h.bak";
            File.WriteAllBytes(shm, []);
            _decoys.Add(shm);
            string fifo = Path.Combine(Directory, $"{baseName}.fifo");
            Fifo.Create(fifo);
            _decoys.Add(fifo);
            string sub = Path.Combine(Directory, $"{baseName}.h2c.d");
            System.IO.Directory.CreateDirectory(sub);
        }

        /// <summary>Only the objects that carry this client id (other tests' objects are not ours to look at).</summary>
        public IReadOnlyList<StaleObject> Mine(IEnumerable<StaleObject> objects)
        {
            string marker = string.Create(CultureInfo.InvariantCulture, $".{ClientId}.");
            return [.. objects.Where(o => Path.GetFileName(o.Path).Contains(marker, StringComparison.Ordinal))];
        }

        public bool AllExist() => _expected.All(o => File.Exists(o.Path));

        public bool NoneExist() => !_expected.Any(o => File.Exists(o.Path));

        public bool DecoysExist() => _decoys.All(File.Exists);

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
            foreach (string path in _files.Concat(_decoys))
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    TestContext.Progress.WriteLine($"could not remove {path}: {e.Message}");
                }
            }
        }
    }
}
