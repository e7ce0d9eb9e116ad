using System.Globalization;
using System.Text;
using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>
/// One test's world: its hub directory (<c>/tmp/ipccore-it.&lt;pid&gt;.&lt;n&gt;.&lt;tag&gt;</c>) and every process it
/// started. <see cref="CleanUp"/> ends them all by pid (clients first, then hubs; SIGTERM, then SIGKILL),
/// then reports what was left behind: hub.sock, hub.lock, the inbox publish.fifo or a client's FIFO
/// (ipchub.*) in the directory, POSIX IPC objects (shared memory, semaphores, message queues), a hub
/// that had to be killed.
/// </summary>
internal sealed class HubTestEnvironment
{
    private readonly List<ChildProcess> _clients = [];
    private readonly List<HubProcess> _hubs = [];
    private readonly object _gate = new();

    public HubTestEnvironment(string tag)
    {
        Tag = tag;
        Directory = TestNames.HubDirectory(tag);
    }

    public string Tag { get; }

    /// <summary>Every --backend of the tools.</summary>
    public static readonly string[] AllBackends = ["socket", "fifo", "mqueue", "shm", "pipe"];

    /// <summary>
    /// The --mq-message-size every hub of this test gets (unless its arguments name one), or null for the
    /// hub's default (8192). All tests share the user's RLIMIT_MSGQUEUE (819200 bytes, which root cannot raise
    /// here): a default-size mqueue client takes about 166 KB, a 1024-byte one about 22 KB.
    /// </summary>
    public string? MqMessageSize { get; set; } = "1024";

    /// <summary>The --backend of the subscribers started from now on (socket, fifo, mqueue, shm, pipe).</summary>
    public string SubscriberBackend { get; set; } = "socket";

    /// <summary>The --backend of the publishers started from now on (socket, fifo, mqueue, shm, pipe).</summary>
    public string PublisherBackend { get; set; } = "socket";

    /// <summary>How the tools' status line names a --backend: "Connected to hub via UNIX socket".</summary>
    public static string ConnectedVia(string backend) => backend switch
    {
        "socket" => "Connected to hub via UNIX socket",
        "fifo" => "Connected to hub via named pipe (FIFO)",
        "mqueue" => "Connected to hub via message queue",
        "shm" => "Connected to hub via shared memory",
        "pipe" => "Connected to hub via anonymous pipe",
        _ => throw new ArgumentException($"unknown backend '{backend}'", nameof(backend)),
    };

    /// <summary>The hub directory (not created: the hub creates it, unless the test does first).</summary>
    public string Directory { get; }

    public string SocketPath => Path.Combine(Directory, "hub.sock");

    public string LockPath => Path.Combine(Directory, "hub.lock");

    /// <summary>The hub's inbox FIFO.</summary>
    public string InboxPath => Path.Combine(Directory, "publish.fifo");

    /// <summary>A scratch directory for the test's own files (payloads for --file), beside the hub directory.</summary>
    public string FilesDirectory
    {
        get
        {
            string path = Directory + "-files";
            System.IO.Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>Writes <paramref name="content"/> to a file in <see cref="FilesDirectory"/>; returns its path.</summary>
    public string WriteFile(string name, byte[] content)
    {
        string path = Path.Combine(FilesDirectory, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>The first hub started (most tests have one).</summary>
    public HubProcess Hub => _hubs.Count > 0 ? _hubs[0] : throw new InvalidOperationException("no hub started");

    // --- the hub -------------------------------------------------------------------------------

    /// <summary>Starts <c>myipchub --dir DIR args...</c> and waits until it says it is listening.</summary>
    public HubProcess StartHub(params string[] args)
    {
        HubProcess hub = StartHubNoWait(args);
        hub.WaitUntilListening();
        return hub;
    }

    /// <summary>Starts the hub without waiting for anything.</summary>
    public HubProcess StartHubNoWait(params string[] args)
    {
        string[] mq = MqMessageSize is null || args.Contains("--mq-message-size") ? [] : ["--mq-message-size", MqMessageSize];
        var child = ChildProcess.Start(Tools.Hub, ["--dir", Directory, .. mq, .. args]);
        var hub = new HubProcess(child, Directory);
        lock (_gate)
        {
            _hubs.Add(hub);
        }
        return hub;
    }

    // --- clients -------------------------------------------------------------------------------

    /// <summary>Starts any tool as a client of this test (ended at clean-up).</summary>
    public ChildProcess StartClient(string tool, IEnumerable<string> args)
    {
        var child = ChildProcess.Start(tool, args);
        lock (_gate)
        {
            _clients.Add(child);
        }
        return child;
    }

    /// <summary>
    /// Starts <c>myipcsub --dir DIR --backend socket --channel P...</c> plus <paramref name="extra"/>; unless
    /// <paramref name="waitSubscribed"/> is false, waits for "Connected to hub via UNIX socket" and a
    /// "Subscribed to 'P'" line per pattern, so a publish made afterwards reaches it.
    /// </summary>
    public ChildProcess StartSubscriber(IReadOnlyList<string> patterns, IEnumerable<string>? extra = null, bool waitSubscribed = true)
    {
        var args = new List<string> { "--dir", Directory, "--backend", SubscriberBackend };
        foreach (string p in patterns)
        {
            args.Add("--channel");
            args.Add(p);
        }
        args.AddRange(extra ?? []);
        ChildProcess sub = StartClient(Tools.Sub, args);
        if (waitSubscribed)
        {
            WaitSubscribed(sub, patterns, SubscriberBackend);
        }
        return sub;
    }

    public ChildProcess StartSubscriber(string pattern, params string[] extra) => StartSubscriber([pattern], extra);

    /// <summary>Starts <c>/bin/sh -c <paramref name="script"/></c> as a client of this test (ended at clean-up).</summary>
    public ChildProcess StartShell(string script)
    {
        var child = ChildProcess.StartShell(script);
        lock (_gate)
        {
            _clients.Add(child);
        }
        return child;
    }

    public void WaitSubscribed(ChildProcess sub, IReadOnlyList<string> patterns) => WaitSubscribed(sub, patterns, SubscriberBackend);

    public static void WaitSubscribed(ChildProcess sub, IReadOnlyList<string> patterns, string backend)
    {
        string via = ConnectedVia(backend);
        sub.WaitForStderrLine(l => l.Contains(via, StringComparison.Ordinal), Timeouts.Start,
            "myipcsub should report its connection");
        foreach (string p in patterns)
        {
            string expected = $"Subscribed to '{p}'";
            sub.WaitForStderrLine(l => l.Contains(expected, StringComparison.Ordinal), Timeouts.Start,
                $"myipcsub should report \"{expected}\"");
        }
    }

    /// <summary>Starts <c>myipcpub --dir DIR --backend socket --channel C</c> plus <paramref name="extra"/> (stdin open).</summary>
    public ChildProcess StartPublisher(string channel, params string[] extra)
        => StartClient(Tools.Pub, ["--dir", Directory, "--backend", PublisherBackend, "--channel", channel, .. extra]);

    /// <summary>Runs <c>myipcpub ... --message M</c> to its end; returns the finished process.</summary>
    public ChildProcess Publish(string channel, string message, params string[] extra)
    {
        ChildProcess pub = StartPublisher(channel, ["--message", message, .. extra]);
        pub.CloseStdin();
        pub.WaitForExit(Timeouts.Message, $"myipcpub --channel {channel} --message ...");
        return pub;
    }

    /// <summary>Publishes one message, asserts exit 0 and <c>Published (N subscribers)</c>.</summary>
    public ChildProcess PublishOk(string channel, string message, int expectedSubscribers)
    {
        ChildProcess pub = Publish(channel, message);
        AssertPublished(pub, expectedSubscribers, 1, PublisherBackend);
        return pub;
    }

    public void AssertPublished(ChildProcess pub, int expectedSubscribers, int messages = 1)
        => AssertPublished(pub, expectedSubscribers, messages, PublisherBackend);

    public static void AssertPublished(ChildProcess pub, int expectedSubscribers, int messages, string backend)
    {
        Assert.That(pub.ExitCode, Is.Zero, $"myipcpub should exit 0\n{pub.Describe()}");
        string expected = string.Create(CultureInfo.InvariantCulture, $"Published ({expectedSubscribers} subscribers)");
        var published = pub.StdoutLines().Where(l => l.StartsWith("Published", StringComparison.Ordinal)).ToList();
        Assert.That(published, Has.Count.EqualTo(messages).And.All.EqualTo(expected), $"myipcpub's stdout\n{pub.Describe()}");
        Assert.That(pub.StderrText(), Does.Contain(ConnectedVia(backend)), $"myipcpub's stderr\n{pub.Describe()}");
    }

    // --- clean-up ------------------------------------------------------------------------------

    /// <summary>Ends every process (by pid) and returns what the test left behind (empty: nothing).</summary>
    public List<string> CleanUp()
    {
        var problems = new List<string>();
        List<ChildProcess> clients;
        List<HubProcess> hubs;
        lock (_gate)
        {
            clients = [.. _clients];
            hubs = [.. _hubs];
        }
        // Clients first, so the hubs see them leave; in parallel, since each may take a while.
        Parallel.ForEach(clients, c => c.Dispose());
        foreach (HubProcess hub in hubs)
        {
            if (!hub.Child.HasExited)
            {
                bool killed = hub.Child.Stop(Timeouts.Stop);
                if (killed)
                {
                    problems.Add($"hub pid {hub.Child.Pid} ignored SIGTERM for {Timeouts.Stop.TotalSeconds:0} s and was killed\n{hub.Child.Describe()}");
                }
                else if (hub.Child.ExitCode != 0)
                {
                    problems.Add($"hub pid {hub.Child.Pid} exited with {hub.Child.ExitCode} on SIGTERM\n{hub.Child.Describe()}");
                }
            }
            hub.Child.Dispose();
        }

        foreach (ChildProcess c in clients.Concat(hubs.Select(h => h.Child)))
        {
            if (c.StderrText().Contains("Unhandled exception", StringComparison.Ordinal))
            {
                problems.Add($"{c.Tool} pid {c.Pid} crashed with an unhandled exception\n{c.Describe()}");
            }
        }
        foreach (string leftover in HubFilesIn(Directory))
        {
            problems.Add($"{leftover} is still there after every hub stopped");
        }
        var pids = clients.Select(c => c.Pid).Concat(hubs.Select(h => h.Child.Pid));
        foreach (string leak in PosixLeaks.Find(pids, Path.GetFileName(Directory)))
        {
            problems.Add($"POSIX IPC object left behind: {leak}");
            TryDelete(leak);
        }
        foreach (string dir in (string[])[Directory, Directory + "-files"])
        {
            if (System.IO.Directory.Exists(dir))
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
        }
        return problems;
    }

    /// <summary>
    /// What a hub leaves in <paramref name="directory"/> when it does not clean up: hub.sock, hub.lock, the
    /// inbox publish.fifo, the clients' FIFOs ipchub.&lt;pid&gt;.&lt;id&gt;.c2h|h2c.
    /// </summary>
    public static List<string> HubFilesIn(string directory)
    {
        var found = new List<string>();
        if (!System.IO.Directory.Exists(directory))
        {
            return found;
        }
        foreach (string path in System.IO.Directory.EnumerateFileSystemEntries(directory))
        {
            string name = Path.GetFileName(path);
            if (name is "hub.sock" or "hub.lock" or "publish.fifo" || name.StartsWith("ipchub.", StringComparison.Ordinal))
            {
                found.Add(path);
            }
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The stderr of every process of this test, for failure messages.</summary>
    public string DescribeAll()
    {
        var text = new StringBuilder();
        lock (_gate)
        {
            foreach (HubProcess hub in _hubs)
            {
                text.Append(hub.Child.Describe());
            }
            foreach (ChildProcess c in _clients)
            {
                text.Append(c.Describe());
            }
        }
        return text.ToString();
    }
}
