namespace IpcCore.Hub.Tests.Infrastructure;

/// <summary>
/// Blocking work (a client that sends or reads) on a dedicated thread: on a 2-core machine running
/// fixtures in parallel, the thread pool can be starved for seconds, which would skew the timing checks.
/// </summary>
internal static class Background
{
    public static Task Run(Action action)
        => Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static Task<T> Run<T>(Func<T> func)
        => Task.Factory.StartNew(func, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
