using System.Threading.Tasks.Sources;

namespace IpcCore.Client;

/// <summary>What a request id in flight was for.</summary>
internal enum RequestKind : byte
{
    Publish,
    Subscribe,
    Unsubscribe,
    Resubscribe,
    Flush,
}

/// <summary>A request waiting for the hub's answer. <see cref="Source"/> is null when nobody awaits it (resubscribe).</summary>
internal readonly record struct PendingEntry(PendingRequest? Source, RequestKind Kind, long Epoch, string? Channel);

/// <summary>
/// A reusable awaitable for one request: <see cref="HubClient.PublishAsync"/> returns a ValueTask over it, and
/// it goes back to its pool once the result was read, so a publish allocates nothing. Continuations run on the
/// thread pool, never on the connection's receive thread.
/// </summary>
internal sealed class PendingRequest : IValueTaskSource<PublishResult>
{
    private readonly RequestPool _pool;
    private ManualResetValueTaskSourceCore<PublishResult> _core;
    private CancellationTokenRegistration _registration;

    public PendingRequest(RequestPool pool)
    {
        _pool = pool;
        _core.RunContinuationsAsynchronously = true;
    }

    public ValueTask<PublishResult> Task => new(this, _core.Version);

    /// <summary>Remembers the cancellation registration, disposed when the request completes.</summary>
    public void SetRegistration(CancellationTokenRegistration registration) => _registration = registration;

    public void SetResult(PublishResult result)
    {
        ReleaseRegistration();
        _core.SetResult(result);
    }

    public void SetException(Exception error)
    {
        ReleaseRegistration();
        _core.SetException(error);
    }

    /// <summary>Gives the request back unused (it was never sent).</summary>
    public void Abandon()
    {
        ReleaseRegistration();
        _pool.Return(this);
    }

    public PublishResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            _pool.Return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    private void ReleaseRegistration()
    {
        CancellationTokenRegistration registration = _registration;
        _registration = default;
        // Unregister, not Dispose: this may run inside the cancellation callback itself.
        registration.Unregister();
    }
}

/// <summary>A small lock-protected pool of <see cref="PendingRequest"/>s.</summary>
internal sealed class RequestPool
{
    private const int MaxPooled = 1024;
    private readonly Stack<PendingRequest> _free = new();
    private readonly Lock _lock = new();

    public PendingRequest Rent()
    {
        lock (_lock)
        {
            if (_free.TryPop(out PendingRequest? request))
            {
                return request;
            }
        }
        return new PendingRequest(this);
    }

    public void Return(PendingRequest request)
    {
        lock (_lock)
        {
            if (_free.Count < MaxPooled)
            {
                _free.Push(request);
            }
        }
    }
}
