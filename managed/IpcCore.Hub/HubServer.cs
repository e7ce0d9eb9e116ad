using System.Globalization;
using System.Text;
using IpcCore.Hub.Transports;
using IpcCore.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace IpcCore.Hub;

/// <summary>A hub could not start; the message says why in one line (no stack trace needed).</summary>
public sealed class HubStartException : Exception
{
    public HubStartException() { }

    public HubStartException(string message) : base(message) { }

    public HubStartException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// A hub: its directory, lock file and listening socket, and the event loop that serves them.
/// <see cref="Start"/> claims the directory and starts listening (so a client can connect as soon as it
/// returns), <see cref="Run"/> serves on the calling thread until <see cref="RequestStop"/> (safe from any
/// thread, e.g. a signal handler), then says goodbye to every client, drains and removes its files.
/// </summary>
public sealed class HubServer : IDisposable
{
    private const int ListenBacklog = 512;
    private const int LockAttempts = 5;

    private readonly HubOptions _options;
    private readonly ILogger _logger;
    private readonly List<IHubTransport> _transports;
    private FileLock? _lock;
    private bool _createdDirectory;
    private bool _socketBound;
    private volatile HubEngine? _engine;
    private Local.LocalClients? _local;
    private bool _cleanedUp;
    private volatile bool _stopRequested;

    /// <exception cref="ArgumentException">When <paramref name="options"/> are invalid (<see cref="HubOptions.Validate"/>).</exception>
    public HubServer(HubOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("IpcCore.Hub");
        Directory = HubPaths.ResolveDirectory(options.Directory);
        // In the brief's order: "Backends available: pipe, fifo, socket, mqueue, shm".
        bool Offered(TransportKind kind) => options.Backends is not { Count: > 0 } || options.Backends.Contains(kind);
        _transports = [];
        if (Offered(TransportKind.Pipe))
        {
            _transports.Add(new PipeTransport());
        }
        if (Offered(TransportKind.Fifo))
        {
            _transports.Add(new FifoTransport(Directory));
        }
        if (Offered(TransportKind.Socket))
        {
            _transports.Add(new SocketTransport());
        }
        if (Offered(TransportKind.MessageQueue))
        {
            _transports.Add(new MessageQueueTransport(options.MessageQueueDepth, options.MessageQueueMessageSize,
                (int)options.MaxDataFrameLength, options.MaxClients, _logger));
        }
        if (Offered(TransportKind.SharedMemory))
        {
            _transports.Add(new SharedMemoryTransport(options.ShmRingSize, options.SharedMemoryWake));
        }
        SocketPath = HubPaths.SocketPath(Directory);
        LockPath = HubPaths.LockPath(Directory);
    }

    /// <summary>The hub directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>The listening socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>The lock file's path.</summary>
    public string LockPath { get; }

    /// <summary>The inbox FIFO's path (present while the hub runs, unless <see cref="HubOptions.Inbox"/> is off).</summary>
    public string InboxPath => HubObjectNames.InboxPath(Directory);

    /// <summary>The transports clients may ask for, by name ("socket").</summary>
    public IReadOnlyList<string> TransportNames => _transports.Select(t => t.Name).ToList();

    /// <summary>Open connections (updated after every loop iteration).</summary>
    public int ClientCount => _engine?.ClientCount ?? 0;

    /// <summary>Bytes the event-loop thread has allocated so far (sampled after every batch; its hot path allocates nothing).</summary>
    public long LoopAllocatedBytes => _engine?.LoopAllocatedBytes ?? 0;

    internal HubEngine? Engine => _engine;

    /// <summary>
    /// Creates the directory if needed, takes the lock, replaces a stale socket, binds and listens. On
    /// failure everything it created is removed again.
    /// </summary>
    /// <exception cref="HubStartException">Another hub runs on the directory; the directory cannot be used.</exception>
    /// <exception cref="IpcException">A system call failed (the message names it, the path and the errno).</exception>
    public void Start()
    {
        if (_engine is not null || _cleanedUp)
        {
            throw new InvalidOperationException("A hub server starts once.");
        }
        try
        {
            PrepareDirectory();
            AcquireLock();
            // Objects of hubs that died (SIGKILL) without removing them: shm, semaphores, mqueues, FIFOs here.
            StaleObjects.Sweep(Directory, includeDirectoryFiles: false, dryRun: false, _logger);
            UnixSocket listener = Listen();
            try
            {
                _engine = new HubEngine(_options, _logger, listener, _transports);
                _local = new Local.LocalClients(_options, Directory, _logger);
                _local.Start(_engine);
                if (_stopRequested)
                {
                    _engine.RequestStop(); // a signal came while starting
                }
            }
            catch
            {
                listener.Dispose();
                throw;
            }
            HubLog.Listening(_logger, ProcessInfo.CurrentPid, SocketPath, _options.MaxMessageSize, _options.MaxClients,
                _options.QueueMessages, _options.QueueBytes, _options.SlowPolicy);
        }
        catch
        {
            CleanUp(log: false);
            throw;
        }
    }

    /// <summary>Serves until <see cref="RequestStop"/>; then drains, closes and removes the hub's files.</summary>
    public void Run()
    {
        HubEngine engine = _engine ?? throw new InvalidOperationException("Start the hub first.");
        try
        {
            engine.Run();
            _local?.Stop();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            HubLog.LoopFailed(_logger, e.Message, e is IpcException ? null : e);
            throw;
        }
        finally
        {
            CleanUp(log: true);
        }
    }

    /// <summary>
    /// Asks the hub to shut down (any thread, e.g. a signal handler; returns at once). Before <see cref="Start"/>
    /// has finished it is remembered, and <see cref="Run"/> then shuts down right away.
    /// </summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _engine?.RequestStop();
    }

    /// <summary>Closes everything and removes the hub's files if <see cref="Run"/> did not already.</summary>
    public void Dispose() => CleanUp(log: false);

    private void PrepareDirectory()
    {
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (_options.GroupAccess)
        {
            mode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        }
        if (File.Exists(Directory))
        {
            throw new HubStartException($"the hub directory {Directory} exists and is not a directory");
        }
        if (System.IO.Directory.Exists(Directory))
        {
            return;
        }
        try
        {
            System.IO.Directory.CreateDirectory(Directory, mode);
            File.SetUnixFileMode(Directory, mode); // exactly, whatever the umask
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HubStartException($"cannot create the hub directory {Directory}: {e.Message}", e);
        }
        _createdDirectory = true;
        string octal = Convert.ToString((int)mode, 8);
        HubLog.CreatedDirectory(_logger, Directory, octal);
    }

    private void AcquireLock()
    {
        byte[] pid = Encoding.ASCII.GetBytes(ProcessInfo.CurrentPid.ToString(CultureInfo.InvariantCulture) + "\n");
        for (int attempt = 0; attempt < LockAttempts; attempt++)
        {
            FileLock? fileLock = FileLock.TryAcquireExclusive(LockPath);
            if (fileLock is null)
            {
                string holder = ReadLockHolder();
                throw new HubStartException(holder.Length > 0
                    ? $"another hub (pid {holder}) is running on {Directory}"
                    : $"another hub is running on {Directory}");
            }
            try
            {
                // Through the locked descriptor itself (a FileStream on the path would take a flock of its
                // own and fail against ours), so the pid lands in the very file we hold.
                using var handle = new SafeFileHandle(fileLock.Handle.DangerousGetHandle(), ownsHandle: false);
                byte[] previous = new byte[32];
                int length = RandomAccess.Read(handle, previous, 0);
                string stale = Encoding.ASCII.GetString(previous, 0, length).Trim();
                if (stale.Length > 0)
                {
                    HubLog.StaleLock(_logger, LockPath, stale);
                }
                RandomAccess.SetLength(handle, 0);
                RandomAccess.Write(handle, pid, 0);
            }
            catch
            {
                fileLock.Dispose();
                throw;
            }
            // A hub that stopped right before us deletes the lock file before it releases it: if we locked
            // that deleted file, another hub may lock a new one at the path; so we try again.
            if (!IsDeleted(fileLock))
            {
                _lock = fileLock;
                return;
            }
            fileLock.Dispose();
        }
        throw new HubStartException($"could not take the lock {LockPath}: it kept being replaced");
    }

    private static bool IsDeleted(FileLock fileLock)
    {
        string link = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fileLock.Handle.Fd}");
        string? target = new FileInfo(link).LinkTarget;
        return target is null || target.EndsWith(" (deleted)", StringComparison.Ordinal);
    }

    /// <summary>The pid written in the lock file, or empty when it cannot be read.</summary>
    /// <remarks>
    /// .NET takes a shared flock when it opens a file (its FileShare emulation), which fails while the hub
    /// holds its exclusive one, unless System.IO.DisableFileLocking is set (myipchub sets it).
    /// </remarks>
    private string ReadLockHolder()
    {
        try
        {
            return File.ReadAllText(LockPath).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private UnixSocket Listen()
    {
        if (File.Exists(SocketPath))
        {
            // We hold the lock, so no hub serves this socket... unless a process that never took the lock does.
            using (UnixSocket probe = UnixSocket.CreateStream())
            {
                try
                {
                    probe.Connect(SocketPath);
                    throw new HubStartException($"a process that does not hold {LockPath} is listening on {SocketPath}; not replacing it");
                }
                catch (IpcException)
                {
                    // ECONNREFUSED: nobody listens. Stale.
                }
            }
            File.Delete(SocketPath);
            HubLog.StaleSocketReplaced(_logger, SocketPath);
        }
        UnixSocket listener = UnixSocket.CreateStream(nonBlocking: true);
        try
        {
            listener.Bind(SocketPath);
            _socketBound = true;
            UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            if (_options.GroupAccess)
            {
                mode |= UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
            }
            File.SetUnixFileMode(SocketPath, mode);
            listener.Listen(ListenBacklog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private void CleanUp(bool log)
    {
        if (_cleanedUp)
        {
            return;
        }
        _cleanedUp = true;
        _engine?.Dispose();
        _local?.Dispose();
        var removed = new List<string>();
        if (_socketBound)
        {
            TryDelete(SocketPath, removed);
        }
        if (_lock is not null)
        {
            // Delete while still holding it (see AcquireLock for how a racing newcomer copes).
            TryDelete(LockPath, removed);
            _lock.Dispose();
            _lock = null;
        }
        if (_createdDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: false);
                removed.Add(Directory);
            }
            catch (IOException)
            {
                // Not empty (someone else's files): leave it.
            }
            catch (UnauthorizedAccessException e)
            {
                HubLog.CleanupFailed(_logger, Directory, e.Message);
            }
        }
        foreach (IHubTransport t in _transports)
        {
            t.Dispose();
        }
        if (log)
        {
            HubLog.Stopped(_logger, removed.Count == 0 ? "nothing" : string.Join(", ", removed));
        }
    }

    private void TryDelete(string path, List<string> removed)
    {
        try
        {
            File.Delete(path);
            removed.Add(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HubLog.CleanupFailed(_logger, path, e.Message);
        }
    }
}
