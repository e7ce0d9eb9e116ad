using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Protocol;
using IpcCore.Rings;
using Microsoft.Extensions.Logging;

namespace IpcCore.Hub.Transports;

/// <summary>
/// A data path the event loop cannot see through epoll alone (a shared-memory ring): the hub announces
/// before each epoll_wait that it sleeps, the peer then rings the doorbell (<see cref="IClientDataPath.ReadHandle"/>),
/// and after each wait the loop polls the path for input and space.
/// </summary>
internal interface IPolledDataPath
{
    /// <summary>Whether <see cref="IClientDataPath.ReadHandle"/> is a doorbell (the only handle polled); otherwise the path's handles are polled as usual and this interface only adds <see cref="HasInput"/>.</summary>
    bool UsesDoorbell { get; }

    /// <summary>The doorbell eventfd became readable: take its counter (one read).</summary>
    void DrainDoorbell();

    /// <summary>
    /// Announces that the hub sleeps (consumer of client→hub when <paramref name="wantRead"/>, producer of
    /// hub→client when <paramref name="wantWrite"/>), with a full fence and a re-check; false when there is
    /// already something to do (input, or space for pending output), so the loop must not block.
    /// </summary>
    bool PrepareToSleep(bool wantRead, bool wantWrite);

    /// <summary>The loop is awake: clears the sleeping flags (so a busy peer makes no system calls).</summary>
    void Awake();

    /// <summary>Whether committed input is there now.</summary>
    bool HasInput { get; }

    /// <summary>Whether output fits now.</summary>
    bool HasSpace { get; }
}

/// <summary>
/// The shared-memory transport: per client two rings (client→hub, hub→client) in two POSIX shared-memory
/// objects <c>/ipchub.&lt;hubpid&gt;.&lt;clientid&gt;.c2h</c>/<c>.h2c</c>, and an eventfd doorbell that wakes the hub.
/// The names are unlinked as soon as the client's first frame shows it mapped them (at the latest when
/// the client goes); objects left by a hub that died are swept when a hub starts.
/// </summary>
public sealed partial class SharedMemoryTransport : IHubTransport
{
    /// <summary>The default data bytes of each ring.</summary>
    public const long DefaultRingSize = 1L << 20;

    /// <summary>The prefix of every object's name (in /dev/shm without the slash).</summary>
    public const string NamePrefix = "ipchub.";

    /// <summary>The prefix of a semaphore's file in /dev/shm (<c>sem.</c> + the name without the slash).</summary>
    public const string SemaphoreFilePrefix = "sem." + NamePrefix;

    private readonly long _capacity;
    private readonly RingWakeMode _wakeMode;
    private readonly int _hubPid = ProcessInfo.CurrentPid;

    public SharedMemoryTransport(long ringSize = DefaultRingSize, RingWakeMode wakeMode = RingWakeMode.Futex)
    {
        if (!Enum.IsDefined(wakeMode))
        {
            throw new ArgumentOutOfRangeException(nameof(wakeMode), wakeMode, "The wake mode must be futex or semaphore.");
        }
        _wakeMode = wakeMode;
        if (ringSize < ShmRing.MinCapacity || ringSize > ShmRing.MaxCapacity || (ringSize & (ringSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ringSize), ringSize,
                $"The shared-memory ring size must be a power of two from {ShmRing.MinCapacity} to {ShmRing.MaxCapacity} bytes.");
        }
        _capacity = ringSize;
    }

    public TransportKind Kind => TransportKind.SharedMemory;

    public string Name => "shm";

    /// <summary>The data bytes of each ring.</summary>
    public long RingSize => _capacity;

    /// <summary>How the rings sleep and wake (the hub itself is always woken through its doorbell).</summary>
    public RingWakeMode WakeMode => _wakeMode;

    public IClientDataPath CreateDataPath(ulong clientId, UnixSocket control)
    {
        ArgumentNullException.ThrowIfNull(control);
        string baseName = string.Create(CultureInfo.InvariantCulture, $"/{NamePrefix}{_hubPid}.{clientId}");
        return SharedMemoryDataPath.Create(baseName + ".c2h", baseName + ".h2c", _capacity, _wakeMode);
    }

    public void Dispose()
    {
        // Every object belongs to a data path, which removes it.
    }

    /// <summary>
    /// Removes <c>/dev/shm/ipchub.&lt;pid&gt;.*</c> objects and <c>/dev/shm/sem.ipchub.&lt;pid&gt;.*</c> semaphores
    /// whose hub process is gone; returns their file names.
    /// </summary>
    public static IReadOnlyList<string> SweepStale(ILogger? logger = null)
    {
        var removed = new List<string>();
        SweepStale(NamePrefix, semaphores: false, removed, logger);
        SweepStale(SemaphoreFilePrefix, semaphores: true, removed, logger);
        return removed;
    }

    private static void SweepStale(string filePrefix, bool semaphores, List<string> removed, ILogger? logger)
    {
        string[] files;
        try
        {
            files = System.IO.Directory.GetFiles("/dev/shm", filePrefix + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string file in files)
        {
            string name = Path.GetFileName(file);
            string rest = name[filePrefix.Length..];
            int dot = rest.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !int.TryParse(rest.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
            {
                continue;
            }
            if (ProcessInfo.IsAlive(pid))
            {
                continue;
            }
            bool unlinked = semaphores
                ? NamedSemaphore.TryUnlink("/" + name["sem.".Length..])
                : SharedMemory.TryUnlink("/" + name);
            if (unlinked)
            {
                removed.Add(name);
                if (logger is not null)
                {
                    LogStaleRemoved(logger, name, pid);
                }
            }
        }
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Information,
        Message = "removed the stale shared-memory object /dev/shm/{Name} (hub pid {Pid} is gone)")]
    private static partial void LogStaleRemoved(ILogger logger, string name, int pid);
}

/// <summary>
/// The hub's side of one shared-memory client: consumer of the client→hub ring, producer of the
/// hub→client ring. Frames are a byte stream over the records (a frame may span records, a record may
/// hold several frames), so Read/Write behave like a non-blocking socket.
/// </summary>
internal sealed class SharedMemoryDataPath : IClientDataPath, IPolledDataPath
{
    private readonly SharedMemory _c2hMemory;
    private readonly SharedMemory _h2cMemory;
    private readonly ShmRing _c2h;
    private readonly ShmRing _h2c;
    private readonly RingConsumer _consumer;
    private readonly RingProducer _producer;
    private readonly EventFd _doorbell;
    private readonly byte[] _welcomeExtension;
    private readonly string _c2hName;
    private readonly string _h2cName;
    private readonly RingSemaphoreNames? _c2hSemaphores;
    private readonly RingSemaphoreNames? _h2cSemaphores;
    private bool _unlinked;
    private readonly RingStreamReader _reader;
    private readonly RingStreamWriter _writer;
    private bool _disposed;

    private SharedMemoryDataPath(SharedMemory c2hMemory, SharedMemory h2cMemory, ShmRing c2h, ShmRing h2c, EventFd doorbell,
        string c2hName, string h2cName, long capacity, RingSemaphoreNames? c2hSemaphores, RingSemaphoreNames? h2cSemaphores)
    {
        _c2hSemaphores = c2hSemaphores;
        _h2cSemaphores = h2cSemaphores;
        _c2hMemory = c2hMemory;
        _h2cMemory = h2cMemory;
        _c2h = c2h;
        _h2c = h2c;
        _doorbell = doorbell;
        _c2hName = c2hName;
        _h2cName = h2cName;
        _consumer = c2h.CreateConsumer();
        _producer = h2c.CreateProducer();
        _reader = new RingStreamReader(_consumer);
        _writer = new RingStreamWriter(_producer);
        // u64 capacity, the two ring names, u8 wake mode, then (semaphore mode) the four semaphore names.
        var ext = new List<byte>(128);
        Span<byte> u64 = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(u64, (ulong)capacity);
        ext.AddRange(u64);
        AppendName(ext, c2hName);
        AppendName(ext, h2cName);
        ext.Add((byte)c2h.WakeMode);
        if (c2hSemaphores is not null && h2cSemaphores is not null)
        {
            AppendName(ext, c2hSemaphores.Data);
            AppendName(ext, c2hSemaphores.Space);
            AppendName(ext, h2cSemaphores.Data);
            AppendName(ext, h2cSemaphores.Space);
        }
        _welcomeExtension = ext.ToArray();
    }

    private static void AppendName(List<byte> ext, string name)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        ext.Add((byte)bytes.Length);
        ext.Add((byte)(bytes.Length >> 8));
        ext.AddRange(bytes);
    }

    /// <summary>The semaphore names of one ring: <c>&lt;ring name&gt;.data</c> and <c>.space</c>.</summary>
    internal static RingSemaphoreNames SemaphoreNamesFor(string ringName) => new(ringName + ".data", ringName + ".space");

    public static SharedMemoryDataPath Create(string c2hName, string h2cName, long capacity, RingWakeMode wakeMode = RingWakeMode.Futex)
    {
        RingSemaphoreNames? c2hSemaphores = wakeMode == RingWakeMode.Semaphore ? SemaphoreNamesFor(c2hName) : null;
        RingSemaphoreNames? h2cSemaphores = wakeMode == RingWakeMode.Semaphore ? SemaphoreNamesFor(h2cName) : null;
        SharedMemory? c2hMemory = null, h2cMemory = null;
        ShmRing? c2h = null, h2c = null;
        EventFd? doorbell = null;
        try
        {
            long size = ShmRing.RequiredSize(capacity);
            int maxRecord = ShmRing.MaxRecordFor(capacity);
            c2hMemory = SharedMemory.Create(c2hName, size, UnixFileMode.UserRead | UnixFileMode.UserWrite, exclusive: true);
            h2cMemory = SharedMemory.Create(h2cName, size, UnixFileMode.UserRead | UnixFileMode.UserWrite, exclusive: true);
            c2h = ShmRing.Create(c2hMemory.Region, capacity, maxRecord, wakeMode, c2hSemaphores);
            h2c = ShmRing.Create(h2cMemory.Region, capacity, maxRecord, wakeMode, h2cSemaphores);
            doorbell = EventFd.Create(nonBlocking: true);
            return new SharedMemoryDataPath(c2hMemory, h2cMemory, c2h, h2c, doorbell, c2hName, h2cName, capacity, c2hSemaphores, h2cSemaphores);
        }
        catch
        {
            c2h?.Dispose();
            h2c?.Dispose();
            doorbell?.Dispose();
            if (c2hMemory is not null)
            {
                c2hMemory.Dispose();
                SharedMemory.TryUnlink(c2hName);
            }
            if (h2cMemory is not null)
            {
                h2cMemory.Dispose();
                SharedMemory.TryUnlink(h2cName);
            }
            throw;
        }
    }

    public TransportKind Kind => TransportKind.SharedMemory;

    public bool SharesControlSocket => false;

    public SafeHandle ReadHandle => _doorbell.Handle;

    public SafeHandle WriteHandle => _doorbell.Handle;

    public ReadOnlySpan<byte> WelcomeExtension => _welcomeExtension;

    /// <summary>The descriptor Welcome carries (SCM_RIGHTS): the doorbell (the hub keeps its own copy).</summary>
    public IReadOnlyList<SafeHandle> WelcomeDescriptors => [_doorbell.Handle];

    public void WelcomeSent()
    {
    }

    /// <summary>Whether the object names are gone from /dev/shm.</summary>
    internal bool Unlinked => _unlinked;

    public IoResult Read(Span<byte> destination)
    {
        int n = _reader.Read(destination);
        if (n == 0)
        {
            return new IoResult(IoStatus.WouldBlock, 0);
        }
        if (!_unlinked)
        {
            // The client's first frame came through the ring: it has mapped both objects.
            Unlink();
        }
        return new IoResult(IoStatus.Success, n);
    }

    public bool TryWriteData(ReadOnlySpan<byte> publish, ulong sequence)
    {
        if (publish.Length > _producer.Ring.MaxRecord || !_producer.TryClaim(publish.Length, out Span<byte> frame))
        {
            return false;
        }
        publish.CopyTo(frame);
        FrameWriter.PublishToData(frame, sequence);
        _producer.Commit();
        return true;
    }

    public IoResult Write(ReadOnlySpan<byte> source)
    {
        int n = _writer.Write(source);
        if (n > 0 || source.IsEmpty)
        {
            return new IoResult(IoStatus.Success, n);
        }
        // Full: a client that is gone will never make room (one kill(2), only on a full ring).
        return (_h2c.ConsumerPid > 0 && !ProcessInfo.IsAlive(_h2c.ConsumerPid)) ? new IoResult(IoStatus.PeerClosed, 0) : new IoResult(IoStatus.WouldBlock, 0);
    }

    public bool UsesDoorbell => true;

    public void DrainDoorbell() => _doorbell.TryRead(out _);

    public bool PrepareToSleep(bool wantRead, bool wantWrite)
    {
        bool idle = true;
        if (wantRead && _consumer.BeginExternalSleep())
        {
            idle = false;
        }
        if (wantRead && _reader.HasData)
        {
            idle = false;
        }
        if (wantWrite && _producer.BeginExternalSleep(RingStreamWriter.MinChunk))
        {
            idle = false;
        }
        return idle;
    }

    public void Awake()
    {
        _consumer.EndExternalSleep();
        _producer.EndExternalSleep();
    }

    public bool HasInput => _reader.HasData;

    public bool HasSpace => _writer.HasSpace;

    private void Unlink()
    {
        _unlinked = true;
        SharedMemory.TryUnlink(_c2hName);
        SharedMemory.TryUnlink(_h2cName);
        // The semaphores stay open (named semaphores work unlinked); their names go with the rings' names.
        foreach (RingSemaphoreNames? names in (ReadOnlySpan<RingSemaphoreNames?>)[_c2hSemaphores, _h2cSemaphores])
        {
            if (names is not null)
            {
                NamedSemaphore.TryUnlink(names.Data);
                NamedSemaphore.TryUnlink(names.Space);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!_unlinked)
        {
            Unlink();
        }
        _c2h.Dispose();
        _h2c.Dispose();
        _c2hMemory.Dispose();
        _h2cMemory.Dispose();
        _doorbell.Dispose();
    }

    public override string ToString() => $"shared memory {_c2hName}, {_h2cName}";
}
