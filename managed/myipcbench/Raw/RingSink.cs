using System.Globalization;
using System.Runtime.CompilerServices;
using IpcCore.Rings;

namespace MyIpcBench.Raw;

/// <summary>One ring record per message (claim, copy, commit: the consumer is woken only when it sleeps).</summary>
internal sealed class RingSink : MessageSink
{
    private readonly RingProducer _producer;
    private readonly string _name;

    /// <param name="producer">The ring's producer.</param>
    /// <param name="name">The shared memory object, for messages.</param>
    /// <param name="spinMicroseconds">How long a wait for space spins before it sleeps; 0: only the ring's short spin.</param>
    public RingSink(RingProducer producer, string name, int spinMicroseconds)
    {
        _producer = producer;
        _name = name;
        _producer.SpinNs = spinMicroseconds * 1000L;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Send(ReadOnlySpan<byte> message)
    {
        while (!_producer.TryWrite(message))
        {
            WaitForSpace(message.Length);
        }
    }

    private void WaitForSpace(int length)
    {
        RingWaitResult result = _producer.WaitForSpace(length, RawTimeouts.PeerDeadlineNs());
        if (result == RingWaitResult.PeerGone)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"ring '{_name}': the reading process (pid {_producer.Ring.ConsumerPid}) is gone"));
        }
        if (result == RingWaitResult.TimedOut)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"ring '{_name}': no space freed for {RawTimeouts.Peer.TotalSeconds:F0} s"));
        }
    }
}
