using System.Globalization;
using MyIpcBench.Model;
using Spectre.Console;

namespace MyIpcBench.Reporting;

/// <summary>
/// Live progress on stderr while the cases run (stdout may carry the --json/--csv output). Interactive: a Spectre
/// progress display (overall bar and the current case) with each finished case printed above it. Otherwise (stderr
/// redirected, --no-progress) one plain line per finished case on <c>fallback</c>. Thread safe; Dispose stops the
/// display and waits for its render loop, also after an exception.
/// </summary>
internal sealed class ProgressDisplay : IDisposable
{
    /// <summary>How long Start waits for the display to come up and Dispose for it to finish.</summary>
    private static readonly TimeSpan RenderTimeout = TimeSpan.FromSeconds(5);

    private readonly bool _interactive;
    private readonly TextWriter _fallback;
    private readonly TextWriter _liveOutput;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private IAnsiConsole? _console;
    private Task? _render;
    private ProgressTask? _overall;
    private ProgressTask? _current;
    private int _total;
    private int _finished;
    private bool _started;
    private bool _disposed;

    /// <param name="interactive">Draw a live display on stderr (only when stderr is a terminal).</param>
    /// <param name="fallback">Where the plain lines go when not interactive (or when the live display cannot start).</param>
    public ProgressDisplay(bool interactive, TextWriter fallback)
        : this(interactive, fallback, Console.Error)
    {
    }

    /// <summary>For tests: the live display drawn on <paramref name="liveOutput"/> instead of stderr.</summary>
    internal ProgressDisplay(bool interactive, TextWriter fallback, TextWriter liveOutput)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        ArgumentNullException.ThrowIfNull(liveOutput);
        _interactive = interactive;
        _fallback = fallback;
        _liveOutput = liveOutput;
    }

    /// <summary>Whether the live display is running (false: plain lines).</summary>
    public bool IsLive
    {
        get
        {
            lock (_lock)
            {
                return _console is not null && _current is not null && !_disposed;
            }
        }
    }

    /// <summary>Starts the display for <paramref name="totalCases"/> cases.</summary>
    public void Start(int totalCases)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalCases);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                throw new InvalidOperationException("The progress display has already been started.");
            }
            _started = true;
            _total = totalCases;
            if (!_interactive)
            {
                return;
            }
        }
        StartLive(totalCases);
    }

    /// <summary>Shows <paramref name="benchCase"/> as the case being run.</summary>
    public void Begin(BenchCase benchCase)
    {
        ArgumentNullException.ThrowIfNull(benchCase);
        lock (_lock)
        {
            if (_disposed || _current is null)
            {
                return;
            }
            _current.Description = Markup.Escape(benchCase.ToString());
            _current.Value = 0;
            // Indeterminate (a moving bar) until the case reports how far it is.
            _current.IsIndeterminate = true;
        }
    }

    /// <summary>How far the current case is, 0..1 (optional).</summary>
    public void Update(double fraction)
    {
        if (!double.IsFinite(fraction))
        {
            return;
        }
        lock (_lock)
        {
            if (_disposed || _current is null)
            {
                return;
            }
            _current.IsIndeterminate = false;
            _current.Value = Math.Clamp(fraction, 0, 1) * _current.MaxValue;
        }
    }

    /// <summary>Records that <paramref name="benchCase"/> finished, with a short summary ("2.31 GB/s", "failed: ...").</summary>
    public void End(BenchCase benchCase, string summary)
    {
        ArgumentNullException.ThrowIfNull(benchCase);
        summary ??= string.Empty;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _finished++;
            string counter = _total > 0
                ? $"[{_finished.ToString(CultureInfo.InvariantCulture)}/{_total.ToString(CultureInfo.InvariantCulture)}]"
                : $"[{_finished.ToString(CultureInfo.InvariantCulture)}]";
            string line = $"{counter} {benchCase}: {summary}";
            if (_console is null || _overall is null || _current is null)
            {
                _fallback.WriteLine(line);
                _fallback.Flush();
                return;
            }
            bool failed = summary.StartsWith("failed", StringComparison.OrdinalIgnoreCase);
            // Written through the live console: Spectre prints it above the bars and redraws them below.
            _console.MarkupLine((failed ? "[red]✗[/] " : "[green]✓[/] ") + Markup.Escape(line));
            _overall.Increment(1);
            _overall.Description = Markup.Escape($"{counter} cases");
            _current.Description = "[grey]next case[/]";
            _current.IsIndeterminate = false;
            _current.Value = 0;
        }
    }

    /// <summary>Stops the live display (it clears itself, leaving the finished-case lines) and waits for it.</summary>
    public void Dispose()
    {
        Task? render;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            render = _render;
            _stop.TrySetResult();
        }
        if (render is null)
        {
            return;
        }
        try
        {
            // Bounded: a wedged terminal must not keep the benchmark from exiting.
            render.Wait(RenderTimeout);
        }
        catch (AggregateException e)
        {
            WriteFallback($"progress display failed: {e.InnerException?.Message ?? e.Message}");
        }
    }

    private void StartLive(int totalCases)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(_liveOutput),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        Progress progress = console.Progress()
            .AutoClear(true)
            .HideCompleted(false)
            .Columns(
                new SpinnerColumn(),
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn { Width = 30 },
                new PercentageColumn(),
                new ElapsedTimeColumn());

        // Spectre's live display owns a loop; it runs on its own task until Dispose completes _stop, while the
        // caller's thread moves the tasks (ProgressTask is thread safe) and prints lines through the console.
        Task render = Task.Run(() => progress.StartAsync(async context =>
        {
            ProgressTask overall = context.AddTask(Markup.Escape($"[0/{totalCases.ToString(CultureInfo.InvariantCulture)}] cases"),
                autoStart: true, maxValue: Math.Max(totalCases, 1));
            ProgressTask current = context.AddTask("[grey]starting[/]", autoStart: true, maxValue: 1);
            lock (_lock)
            {
                _overall = overall;
                _current = current;
            }
            ready.TrySetResult();
            await _stop.Task.ConfigureAwait(false);
        }));

        // WaitAny does not throw for a faulted task: a failed start shows as index 1 (or a timeout).
        bool up = Task.WaitAny([ready.Task, render], RenderTimeout) == 0;
        lock (_lock)
        {
            _render = render;
            if (up && render.Status != TaskStatus.Faulted)
            {
                _console = console;
                return;
            }
            // The live display could not start: carry on with plain lines.
            _overall = null;
            _current = null;
        }
        _stop.TrySetResult();
        WriteFallback(render.Exception is { } e
            ? $"progress display unavailable: {e.InnerException?.Message ?? e.Message}"
            : "progress display unavailable: it did not start");
    }

    private void WriteFallback(string line)
    {
        lock (_lock)
        {
            _fallback.WriteLine(line);
            _fallback.Flush();
        }
    }
}
