namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>Generous bounds for waits: the tests run on 2 busy cores, with several .NET processes at once.</summary>
internal static class Timeouts
{
    /// <summary>A tool starting up (runtime start, JIT) and reaching its first output.</summary>
    public static readonly TimeSpan Start = TimeSpan.FromSeconds(30);

    /// <summary>A message travelling from a publisher to a subscriber, or a short-lived tool finishing.</summary>
    public static readonly TimeSpan Message = TimeSpan.FromSeconds(30);

    /// <summary>A graceful stop (SIGTERM) before SIGKILL.</summary>
    public static readonly TimeSpan Stop = TimeSpan.FromSeconds(20);
}
