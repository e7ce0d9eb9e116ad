using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using BenchmarkDotNet.Attributes;
using IpcCore.Hub;
using IpcCore.Hub.Transports;
using IpcCore.Native;
using IpcCore.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace IpcCore.Benchmarks;

/// <summary>
/// The hub's steady-state per-message path, driven through the real <see cref="HubEngine"/> in process: a
/// publisher's data path becomes readable, the engine reads its Publish frames (NoAck, 1 KiB) into the
/// connection's FrameAssembler, parses them with FrameReader, looks the channel up in the Router, assigns
/// the sequence and copies a Data frame into every subscriber's OutboundQueue; then the engine's after-batch
/// step (Settle: deadlines, FlushDirty, Flush) writes each queue to its data path and advances it. That is
/// one epoll wake-up of the loop minus the epoll_wait itself. The data paths are in-memory fakes (the
/// publisher's Read hands out prepared frames, the subscribers' Write takes everything); each owns an idle
/// eventfd only because the engine registers a client's handles with its epoll set. No socket carries
/// anything: the engine's listener is a never-bound socket that is registered and never polled.
/// </summary>
/// <remarks>
/// The read side enters through the engine's poll callback (<c>OnConnectionEvents</c>, what EventLoop calls);
/// the flush side, <c>Settle</c>, is private and reached by reflection (a delegate bound once in setup), so
/// nothing of the engine's per-message code is reimplemented here. Setup checks that the subscribers really
/// receive the Data frames (sequence, channel, payload) and cleanup that nothing was dropped or refused.
/// 0 B per operation is the bar: the route is cached, the queues and the assembler reuse their buffers.
/// With <see cref="Descriptors"/> = 1 every Publish carries one descriptor (a sealed memfd): the publisher's fake
/// path hands the engine a batch per frame as <c>recvmsg</c> would (a <c>dup</c> of the memfd, wrapped like a
/// received one), the subscribers' paths take it with the frame, and the hub closes its copy once every queue has
/// sent it. That row measures what a message with a descriptor costs on top (a dup and a close included); it is
/// not allocation-free (a SafeFdHandle per descriptor, the batch, the hub's reference count).
/// </remarks>
[MemoryDiagnoser]
[SupportedOSPlatform("linux")]
public class HubRouterBenchmarks
{
    private const int PayloadSize = 1024;
    private const int BatchSize = 64;
    private const string ChannelName = "bench.hub.router";

    private HubEngine _engine = null!;
    private Action _settle = null!;
    private PublisherPath _publisherPath = null!;
    private ClientConnection _publisher = null!;
    private readonly List<SubscriberPath> _subscriberPaths = [];
    private readonly List<ClientConnection> _subscribers = [];
    private byte[] _payload = [];
    private byte[] _one = [];
    private byte[] _batch = [];

    [Params(1, 8)]
    public int Subscribers { get; set; }

    /// <summary>Descriptors per message: 0 (plain) or 1.</summary>
    [Params(0, 1)]
    public int Descriptors { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] channel = System.Text.Encoding.UTF8.GetBytes(ChannelName);
        _payload = new byte[PayloadSize];
        for (int i = 0; i < _payload.Length; i++)
        {
            _payload[i] = (byte)(i * 31);
        }
        int frameLength = FrameWriter.FrameLength(channel.Length, PayloadSize);
        FrameFlags flags = FrameHeader.WithDescriptors(FrameFlags.NoAck, Descriptors);
        _one = new byte[frameLength];
        FrameWriter.Write(_one, FrameType.Publish, flags, 1, channel, _payload);
        _batch = new byte[frameLength * BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            FrameWriter.Write(_batch.AsSpan(i * frameLength), FrameType.Publish, flags, (ulong)i + 1, channel, _payload);
        }

        // Default options: backpressure policy (so the "does it fit every queue" pass runs too), 1 MiB messages.
        _engine = new HubEngine(new HubOptions(), NullLogger.Instance, UnixSocket.CreateStream(nonBlocking: true), []);
        MethodInfo settle = typeof(HubEngine).GetMethod("Settle", BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)
            ?? throw new InvalidOperationException("HubEngine.Settle() is gone: HubRouterBenchmarks must learn how the engine flushes now");
        _settle = settle.CreateDelegate<Action>(_engine);

        _publisherPath = new PublisherPath(Descriptors > 0);
        _publisher = _engine.AttachLocal("bench-publisher", _publisherPath, []);
        for (int i = 0; i < Subscribers; i++)
        {
            var path = new SubscriberPath(Descriptors > 0);
            _subscriberPaths.Add(path);
            _subscribers.Add(_engine.AttachLocal("bench-subscriber-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), path, [ChannelName]));
        }

        // One message, captured and checked on every subscriber; then a batch, so the queues have grown to it.
        foreach (SubscriberPath path in _subscriberPaths)
        {
            path.Capture = new byte[frameLength];
        }
        Publish(_one);
        foreach (SubscriberPath path in _subscriberPaths)
        {
            CheckDataFrame(path.Capture!, channel);
            path.Capture = null;
        }
        Publish(_batch);
        CheckCounters(expected: 1 + BatchSize);
        foreach (SubscriberPath path in _subscriberPaths)
        {
            if (path.BytesWritten != (long)frameLength * (1 + BatchSize))
            {
                throw new InvalidOperationException($"a subscriber was written {path.BytesWritten} bytes, not {(long)frameLength * (1 + BatchSize)}");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            CheckCounters(_publisher.Published);
        }
        finally
        {
            _engine.Dispose();
            _subscriberPaths.Clear();
            _subscribers.Clear();
        }
    }

    [Benchmark(Description = "publish 1 KiB NoAck: read, parse, route, queue, flush")]
    public long PublishOne() => Publish(_one);

    [Benchmark(OperationsPerInvoke = BatchSize, Description = "64 publishes per read, per message")]
    public long PublishBatch() => Publish(_batch);

    /// <summary>One wake-up of the loop for the publisher: its data path has <paramref name="frames"/>.</summary>
    private long Publish(byte[] frames)
    {
        _publisherPath.Arm(frames, frames.Length / _one.Length);
        // What EventLoop.WaitAndDispatch calls for a readable client (tag 0: the data path's registration).
        _engine.OnConnectionEvents(_publisher, PollEvents.POLLIN, 0);
        // What HubEngine.Run does after every batch: flush the dirty connections.
        _settle();
        return _publisher.Published;
    }

    private void CheckCounters(long expected)
    {
        if (_publisher.Closing || _publisher.Published != expected || _publisher.Inbound.Count != 0 || _publisher.StalledOn is not null)
        {
            throw new InvalidOperationException(
                $"the publisher is not in a steady state: published {_publisher.Published} of {expected}, closing: {_publisher.CloseReason}");
        }
        foreach (ClientConnection s in _subscribers)
        {
            if (s.Closing || s.Delivered != expected || s.Dropped != 0 || s.Outbound.HasPending || s.WantWrite)
            {
                throw new InvalidOperationException(
                    $"{s} is not in a steady state: delivered {s.Delivered} of {expected}, dropped {s.Dropped}, queued {s.Outbound.Bytes} B, closing: {s.CloseReason}");
            }
        }
    }

    private void CheckDataFrame(byte[] written, byte[] channel)
    {
        FrameParseResult parse = FrameReader.TryParse(written, ProtocolLimits.Default, out Frame frame, out int needed, out _, out string? reason);
        if (parse != FrameParseResult.Complete || needed != written.Length || frame.Type != FrameType.Data || frame.Sequence != 1
            || !frame.Channel.SequenceEqual(channel) || !frame.Payload.SequenceEqual(_payload))
        {
            throw new InvalidOperationException($"a subscriber did not get the Data frame ({parse}, {frame.Type}, sequence {frame.Sequence}) {reason}");
        }
    }

    /// <summary>
    /// A client's data path as the engine sees it, in memory: reads hand out the armed bytes (as a socket would,
    /// as much as fits, then EAGAIN), writes take everything. The eventfd is only there to be registered.
    /// </summary>
    private abstract class FakePath(bool carriesDescriptors) : IClientDataPath
    {
        private readonly EventFd _handle = EventFd.Create(nonBlocking: true);

        public TransportKind Kind => TransportKind.Pipe;

        public DescriptorCarriage Descriptors => carriesDescriptors ? DescriptorCarriage.InBand : DescriptorCarriage.None;

        public bool SharesControlSocket => false;

        public SafeHandle ReadHandle => _handle.Handle;

        public SafeHandle WriteHandle => _handle.Handle;

        public ReadOnlySpan<byte> WelcomeExtension => default;

        public IReadOnlyList<SafeHandle> WelcomeDescriptors => [];

        public void WelcomeSent()
        {
        }

        public abstract IoResult Read(Span<byte> destination);

        public abstract IoResult Write(ReadOnlySpan<byte> source);

        public virtual void Dispose() => _handle.Dispose();
    }

    private sealed class PublisherPath(bool carriesDescriptors) : FakePath(carriesDescriptors), IClientDataPath
    {
        private byte[] _input = [];
        private int _offset;
        private int _batches;
        private readonly MemoryFile? _file = carriesDescriptors ? MemoryFile.Create("bench-descriptor", 4096) : null;

        public void Arm(byte[] input, int frames)
        {
            _input = input;
            _offset = 0;
            _batches = _file is null ? 0 : frames;
        }

        public override void Dispose()
        {
            _file?.Dispose();
            base.Dispose();
        }

        public IoResult Read(Span<byte> destination, DescriptorInbox inbox)
        {
            IoResult result = Read(destination);
            // What recvmsg installs for the frames' batches: a new descriptor of the same file, owned by a handle.
            for (; _batches > 0 && result.Status == IoStatus.Success; _batches--)
            {
                inbox.Add(DescriptorBatch.Received([FileDescriptor.Duplicate(_file!.Handle)]));
            }
            return result;
        }

        public override IoResult Read(Span<byte> destination)
        {
            int n = Math.Min(destination.Length, _input.Length - _offset);
            if (n == 0)
            {
                return new IoResult(IoStatus.WouldBlock, 0);
            }
            _input.AsSpan(_offset, n).CopyTo(destination);
            _offset += n;
            return new IoResult(IoStatus.Success, n);
        }

        public override IoResult Write(ReadOnlySpan<byte> source) => new(IoStatus.Success, source.Length);
    }

    private sealed class SubscriberPath(bool carriesDescriptors) : FakePath(carriesDescriptors), IClientDataPath
    {
        public long BytesWritten { get; private set; }

        /// <summary>When set, the first bytes written are copied here (setup's check).</summary>
        public byte[]? Capture { get; set; }

        public override IoResult Read(Span<byte> destination) => new(IoStatus.WouldBlock, 0);

        public override IoResult Write(ReadOnlySpan<byte> source)
        {
            if (Capture is { } capture && BytesWritten < capture.Length)
            {
                source[..Math.Min(source.Length, capture.Length - (int)BytesWritten)].CopyTo(capture.AsSpan((int)BytesWritten));
            }
            BytesWritten += source.Length;
            return new IoResult(IoStatus.Success, source.Length);
        }

        public IoResult WriteWithDescriptors(ReadOnlySpan<byte> source, ReadOnlySpan<SafeHandle> descriptors) => Write(source);
    }
}
