using Microsoft.Extensions.Logging;

namespace IpcCore.Hub.Tests.Infrastructure;

/// <summary>
/// A <see cref="HubServer"/> on its own thread, started on a <see cref="TempHubDirectory"/>; disposing
/// stops it (the SIGTERM path: <see cref="HubServer.RequestStop"/>), waits for it and removes the directory.
/// </summary>
internal sealed class InProcessHub : IDisposable
{
    private readonly Thread _thread;
    private Exception? _failure;

    private InProcessHub(TempHubDirectory directory, HubServer server, TestLog log)
    {
        Directory = directory;
        Server = server;
        Log = log;
        _thread = new Thread(RunLoop) { IsBackground = true, Name = "hub " + directory.Path };
        _thread.Start();
    }

    public TempHubDirectory Directory { get; }

    public HubServer Server { get; }

    public TestLog Log { get; }

    public string SocketPath => Server.SocketPath;

    internal HubEngine Engine => Server.Engine!;

    /// <summary>Starts a hub on a fresh directory with <paramref name="configure"/> applied to the default options.</summary>
    public static InProcessHub Start(string tag, Func<HubOptions, HubOptions>? configure = null)
    {
        var directory = new TempHubDirectory(tag);
        try
        {
            var options = new HubOptions { Directory = directory.Path };
            options = configure?.Invoke(options) ?? options;
            var log = new TestLog();
            var server = new HubServer(options, log);
            try
            {
                server.Start();
            }
            catch
            {
                server.Dispose();
                throw;
            }
            return new InProcessHub(directory, server, log);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Asks the hub to stop and waits for its loop to finish (and clean up); true when it did in time.</summary>
    public bool Stop(TimeSpan timeout)
    {
        Server.RequestStop();
        bool stopped = _thread.Join(timeout);
        if (_failure is not null)
        {
            throw new InvalidOperationException("the hub's loop failed: " + _failure.Message, _failure);
        }
        return stopped;
    }

    public bool IsRunning => _thread.IsAlive;

    public void Dispose()
    {
        try
        {
            Stop(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Server.Dispose();
            Directory.Dispose();
        }
    }

    private void RunLoop()
    {
        try
        {
            Server.Run();
        }
        catch (Exception e)
        {
            _failure = e;
        }
    }
}

/// <summary>A logger factory that keeps what the hub logs at Information and above (tests look for event ids).</summary>
internal sealed class TestLog : ILoggerFactory, ILogger
{
    private readonly List<(LogLevel Level, int EventId, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public bool Contains(int eventId, string text)
        => Entries.Any(e => e.EventId == eventId && e.Message.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        lock (_entries)
        {
            _entries.Add((logLevel, eventId.Id, formatter(state, exception)));
        }
    }
}
