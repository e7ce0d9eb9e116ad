namespace MyIpcBench.Raw;

/// <summary>How long a raw worker waits for its peer, so a peer that dies or hangs never hangs it.</summary>
internal static class RawTimeouts
{
    /// <summary>The sender retries opening the receiver's objects this long (the receiver starts first).</summary>
    public static readonly TimeSpan Attach = TimeSpan.FromSeconds(10);

    /// <summary>A side gives up after this long without progress (first message, ring waits, the watchdog).</summary>
    public static readonly TimeSpan Peer = TimeSpan.FromSeconds(30);

    public static long AttachNs => Attach.Ticks * 100;

    public static long PeerNs => Peer.Ticks * 100;

    /// <summary>The CLOCK_MONOTONIC deadline <see cref="Peer"/> from now.</summary>
    public static long PeerDeadlineNs() => IpcCore.MonotonicClock.NowNs + PeerNs;
}
