namespace MyIpcBench.Raw;

/// <summary>
/// A thread that calls <c>onStall</c> once when a progress counter stayed the same for longer than the
/// limit: the backstop for plain blocking calls (a pipe read, an mq_send) whose peer hangs or vanished
/// without closing its end. The measured loop only stores its counter; the check runs twice a second.
/// </summary>
internal sealed class ProgressWatchdog : IDisposable
{
    private static readonly TimeSpan s_checkInterval = TimeSpan.FromMilliseconds(500);

    private readonly Func<long> _progress;
    private readonly long _limitNs;
    private readonly Action<long> _onStall;
    private volatile bool _stopped;

    public ProgressWatchdog(Func<long> progress, TimeSpan limit, Action<long> onStall)
    {
        _progress = progress;
        _limitNs = limit.Ticks * 100;
        _onStall = onStall;
        var thread = new Thread(Watch) { IsBackground = true, Name = "raw watchdog" };
        thread.Start();
    }

    /// <summary>Stops watching (within one check interval). Not joined: the thread may be inside onStall, which ends the process.</summary>
    public void Dispose() => _stopped = true;

    private void Watch()
    {
        long last = _progress();
        long since = IpcCore.MonotonicClock.NowNs;
        while (true)
        {
            Thread.Sleep(s_checkInterval);
            if (_stopped)
            {
                return;
            }
            long now = IpcCore.MonotonicClock.NowNs;
            long progress = _progress();
            if (progress != last)
            {
                last = progress;
                since = now;
            }
            else if (now - since > _limitNs)
            {
                _onStall(progress);
                return;
            }
        }
    }
}
