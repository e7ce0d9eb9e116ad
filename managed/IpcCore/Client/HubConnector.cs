using System.Diagnostics;
using System.Globalization;
using IpcCore.Native;
using IpcCore.Protocol;

namespace IpcCore.Client;

/// <summary>A connected, handshaken data path and what the hub said in Welcome.</summary>
internal sealed class EstablishedConnection(IClientDataPath path, WelcomePayload welcome, byte[] leftover)
{
    public IClientDataPath Path { get; } = path;

    public WelcomePayload Welcome { get; } = welcome;

    /// <summary>Bytes that arrived after Welcome (the start of the frame stream).</summary>
    public byte[] Leftover { get; } = leftover;
}

/// <summary>Connects to the hub's control socket and does Hello/Welcome, retrying while the hub is not up.</summary>
internal static class HubConnector
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_minHandshake = TimeSpan.FromSeconds(2);

    internal enum Outcome
    {
        Connected,
        Retry,
        Fail,
    }

    /// <summary>Connects within <paramref name="timeout"/> or throws <see cref="HubConnectionException"/> / <see cref="HubException"/>.</summary>
    public static async Task<EstablishedConnection> ConnectAsync(string socketPath, IClientTransport transport, string clientName,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        TimeSpan backoff = s_firstBackoff;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TimeSpan remaining = timeout - Stopwatch.GetElapsedTime(start);
            Outcome outcome = TryOnce(socketPath, transport, clientName, Max(remaining, s_minHandshake),
                out EstablishedConnection? connection, out Exception? error);
            if (outcome == Outcome.Connected)
            {
                return connection!;
            }
            if (outcome == Outcome.Fail)
            {
                throw error is HubException hub ? hub : new HubConnectionException(CannotConnect(socketPath, error, waited: null), error);
            }
            remaining = timeout - Stopwatch.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                throw new HubConnectionException(CannotConnect(socketPath, error, timeout), error);
            }
            await Task.Delay(Min(backoff, remaining), cancellationToken).ConfigureAwait(false);
            backoff = Min(backoff * 2, s_maxBackoff);
        }
    }

    /// <summary>
    /// Blocking form for the receive thread's reconnect: retries everything (even refusals, the hub may change
    /// its mind) until <paramref name="timeout"/> or <paramref name="stop"/>; null then, with the last error.
    /// </summary>
    public static EstablishedConnection? Connect(string socketPath, IClientTransport transport, string clientName,
        TimeSpan timeout, CancellationToken stop, out Exception? lastError)
    {
        long start = Stopwatch.GetTimestamp();
        TimeSpan backoff = s_firstBackoff;
        lastError = null;
        while (!stop.IsCancellationRequested)
        {
            TimeSpan remaining = timeout - Stopwatch.GetElapsedTime(start);
            Outcome outcome = TryOnce(socketPath, transport, clientName, Max(remaining, s_minHandshake),
                out EstablishedConnection? connection, out lastError);
            if (outcome == Outcome.Connected)
            {
                return connection;
            }
            remaining = timeout - Stopwatch.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }
            stop.WaitHandle.WaitOne(Min(outcome == Outcome.Fail ? s_maxBackoff : backoff, remaining));
            backoff = Min(backoff * 2, s_maxBackoff);
        }
        return null;
    }

    /// <summary>One connect and handshake.</summary>
    public static Outcome TryOnce(string socketPath, IClientTransport transport, string clientName, TimeSpan handshakeTimeout,
        out EstablishedConnection? connection, out Exception? error)
    {
        connection = null;
        error = null;
        UnixSocket? socket = null;
        try
        {
            socket = UnixSocket.CreateStream();
            try
            {
                socket.Connect(socketPath);
            }
            catch (IpcException ex)
            {
                error = ex;
                // No socket yet, a stale one (the hub is restarting), or a full backlog: the hub may come.
                return ex.Errno is Errno.ENOENT or Errno.ECONNREFUSED or Errno.EAGAIN ? Outcome.Retry : Outcome.Fail;
            }

            Span<byte> hello = stackalloc byte[FrameHeader.Size + 4 + HelloPayload.MaxNameLength];
            int payloadLength = new HelloPayload(transport.Kind, clientName).Write(hello[FrameHeader.Size..]);
            new FrameHeader(FrameType.Hello, FrameFlags.None, 0, payloadLength, 0).Write(hello);
            try
            {
                socket.SendAll(hello[..(FrameHeader.Size + payloadLength)]);
            }
            catch (IpcException ex)
            {
                error = new HubConnectionException($"the hub closed the connection during the handshake ({ex.ErrnoName})", ex);
                return Outcome.Retry;
            }

            var descriptors = new List<SafeFdHandle>();
            Outcome outcome;
            try
            {
                outcome = ReadWelcome(socket, socketPath, handshakeTimeout, descriptors, out WelcomePayload welcome0, out byte[] extension0,
                    out byte[] leftover0, out error);
                if (outcome == Outcome.Connected)
                {
                    outcome = OpenDataPath(transport, ref socket, socketPath, welcome0, extension0, leftover0, descriptors, out connection, out error);
                }
            }
            finally
            {
                foreach (SafeFdHandle fd in descriptors)
                {
                    fd.Dispose(); // the transport duplicated what it keeps (or the handshake failed)
                }
            }
            return outcome;
        }
        catch (IpcException ex)
        {
            error = ex;
            return Outcome.Fail;
        }
        catch (InvalidDataException ex)
        {
            error = new HubConnectionException("the hub's shared-memory rings are unusable: " + ex.Message, ex);
            return Outcome.Fail;
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static Outcome OpenDataPath(IClientTransport transport, ref UnixSocket? socket, string socketPath, in WelcomePayload welcome,
        byte[] extension, byte[] leftover, List<SafeFdHandle> descriptors, out EstablishedConnection? connection, out Exception? error)
    {
        connection = null;
        error = null;
        {
            if (welcome.Transport != transport.Kind)
            {
                error = new HubException(ProtocolErrorCode.UnsupportedTransport,
                    $"the hub granted transport {welcome.Transport} instead of {transport.Kind}",
                    $"the hub at {socketPath} granted transport {welcome.Transport} instead of {transport.Kind}");
                return Outcome.Fail;
            }
            IClientDataPath path = transport.Open(socket!, welcome, extension, descriptors);
            socket = null; // owned by the data path now
            connection = new EstablishedConnection(path, welcome, leftover);
            return Outcome.Connected;
        }
    }

    private static Outcome ReadWelcome(UnixSocket socket, string socketPath, TimeSpan timeout, List<SafeFdHandle> descriptors, out WelcomePayload welcome,
        out byte[] extension, out byte[] leftover, out Exception? error)
    {
        welcome = default;
        extension = [];
        leftover = [];
        error = null;
        byte[] buffer = new byte[FrameHeader.Size + ProtocolLimits.MaxControlPayload + 4096];
        int received = 0;
        long start = Stopwatch.GetTimestamp();
        ProtocolLimits limits = ProtocolLimits.Default;
        while (true)
        {
            FrameParseResult result = FrameReader.TryParse(buffer.AsSpan(0, received), limits, out Frame frame, out int needed,
                out ProtocolErrorCode code, out string? reason);
            if (result == FrameParseResult.Invalid)
            {
                error = new HubException(code, reason ?? code.ToString(),
                    $"the hub at {socketPath} answered Hello with an invalid frame: {code}: {reason}");
                return Outcome.Fail;
            }
            if (result == FrameParseResult.Complete)
            {
                if (frame.Type == FrameType.Welcome)
                {
                    if (!WelcomePayload.TryRead(frame.Payload, out welcome, out ReadOnlySpan<byte> ext))
                    {
                        error = new HubException(ProtocolErrorCode.InvalidPayload, "malformed Welcome",
                            $"the hub at {socketPath} sent a malformed Welcome ({frame.Payload.Length} bytes)");
                        return Outcome.Fail;
                    }
                    extension = ext.ToArray();
                    leftover = buffer.AsSpan(needed, received - needed).ToArray();
                    return Outcome.Connected;
                }
                if (frame.Type == FrameType.Error)
                {
                    ErrorPayload.TryRead(frame.Payload, out ProtocolErrorCode errorCode, out string errorReason);
                    error = new HubException(errorCode, errorReason, $"the hub at {socketPath} refused the connection: {errorCode}: {errorReason}")
                    {
                        IsFatal = (frame.Flags & FrameFlags.Fatal) != 0,
                    };
                    return errorCode == ProtocolErrorCode.ShuttingDown ? Outcome.Retry : Outcome.Fail;
                }
                if (frame.Type == FrameType.Goodbye)
                {
                    error = new HubConnectionException("the hub said goodbye during the handshake (it is shutting down)");
                    return Outcome.Retry;
                }
                error = new HubException(ProtocolErrorCode.UnknownType, $"unexpected {frame.Type} frame",
                    $"the hub at {socketPath} answered Hello with a {frame.Type} frame");
                return Outcome.Fail;
            }
            if (needed > buffer.Length)
            {
                Array.Resize(ref buffer, needed);
            }

            TimeSpan left = timeout - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero
                || FileDescriptor.Poll(socket.Handle, PollEvents.POLLIN, (int)Math.Ceiling(left.TotalMilliseconds)) == 0)
            {
                error = new HubConnectionException(string.Create(CultureInfo.InvariantCulture,
                    $"the hub accepted the connection but did not answer Hello within {timeout.TotalSeconds:0.###} s"));
                return Outcome.Retry;
            }
            IoResult io = socket.TryReceiveWithDescriptors(buffer.AsSpan(received), descriptors);
            if (io.Status is IoStatus.EndOfStream or IoStatus.PeerClosed)
            {
                error = new HubConnectionException("the hub closed the connection during the handshake");
                return Outcome.Retry;
            }
            received += io.BytesTransferred;
        }
    }

    /// <summary><c>cannot connect to the hub at PATH: ENOENT (No such file or directory); waited 5 s</c>.</summary>
    internal static string CannotConnect(string socketPath, Exception? error, TimeSpan? waited)
    {
        string why = error switch
        {
            IpcException ipc => $"{ipc.ErrnoName} ({ipc.ErrnoDescription})",
            null => "no answer",
            _ => error.Message,
        };
        string suffix = waited is { } w ? string.Create(CultureInfo.InvariantCulture, $"; waited {w.TotalSeconds:0.###} s") : string.Empty;
        return $"cannot connect to the hub at {socketPath}: {why}{suffix}";
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
