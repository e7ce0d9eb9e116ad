using System.Globalization;
using IpcCore;
using IpcCore.Protocol;

namespace MyIpcBench.Raw;

/// <summary>
/// One IPC mechanism between the two raw workers, without a hub: the receiver creates its objects, the
/// sender opens them (retrying while they do not exist yet). Afterwards <see cref="Input"/> and
/// <see cref="Output"/> carry the messages: the receiver reads pings and (latency) writes pongs, the sender
/// the other way round.
/// </summary>
internal abstract class RawMechanism : IDisposable
{
    private bool _disposed;

    protected RawMechanism(RawOptions options) => Options = options;

    protected RawOptions Options { get; }

    /// <summary>Receiver: the pings. Sender: the pongs (latency only, else null).</summary>
    public MessageSource? Input { get; protected set; }

    /// <summary>Sender: the pings. Receiver: the pongs (latency only; set by <see cref="OnFirstMessage"/> at the latest).</summary>
    public MessageSink? Output { get; protected set; }

    public static RawMechanism Create(RawOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Mechanism switch
        {
            TransportKind.Pipe or TransportKind.Fifo or TransportKind.Socket => new StreamMechanism(options),
            TransportKind.MessageQueue => new MessageQueueMechanism(options),
            TransportKind.SharedMemory => new ShmRingMechanism(options),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Mechanism, "Unknown mechanism."),
        };
    }

    /// <summary>Receiver: creates the objects. Sender: opens them (for up to <see cref="RawTimeouts.Attach"/>).</summary>
    public void Open()
    {
        if (Options.Role == RawRole.Receive)
        {
            OpenReceiver();
        }
        else
        {
            OpenSender();
        }
    }

    /// <summary>
    /// Receiver, once the first ping arrived: the sender has everything open now, so the names go
    /// (and a return path that needed the sender's end is opened).
    /// </summary>
    public virtual void OnFirstMessage() => RemoveNames();

    /// <summary>Removes every name this case may have created (ignoring those already gone). Thread-safe, repeatable.</summary>
    public abstract void RemoveNames();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void OpenReceiver();

    protected abstract void OpenSender();

    protected abstract void Dispose(bool disposing);

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, retrying every millisecond while it fails with an
    /// error <paramref name="isTransient"/> accepts (the peer has not created or opened the object yet) for
    /// up to <see cref="RawTimeouts.Attach"/>; then fails naming <paramref name="what"/> and the last error.
    /// </summary>
    protected static T RetryWhileMissing<T>(string what, Func<T> attempt, Func<Exception, bool> isTransient)
    {
        long deadline = MonotonicClock.NowNs + RawTimeouts.AttachNs;
        while (true)
        {
            try
            {
                return attempt();
            }
            catch (Exception ex) when (isTransient(ex))
            {
                if (MonotonicClock.NowNs >= deadline)
                {
                    // An IpcException names the object and the errno already.
                    string error = ex is IpcException ? ex.Message : $"{what}: {ex.Message}";
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"{error} (still, after {RawTimeouts.Attach.TotalSeconds:F0} s: is the peer running?)"), ex);
                }
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Whether <paramref name="ex"/> is an <see cref="IpcException"/> with one of <paramref name="errnos"/>.</summary>
    protected static bool IsErrno(Exception ex, params ReadOnlySpan<IpcCore.Native.Errno> errnos)
        => ex is IpcException ipc && errnos.Contains(ipc.Errno);
}
