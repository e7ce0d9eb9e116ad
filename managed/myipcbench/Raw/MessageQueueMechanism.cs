using IpcCore;
using IpcCore.Native;

namespace MyIpcBench.Raw;

/// <summary>
/// POSIX message queues: /PREFIX.ping (sender → receiver) and, for latency, /PREFIX.pong. The receiver
/// creates both with the case's message size and the deepest queue the system allows, up to 10.
/// </summary>
internal sealed class MessageQueueMechanism : RawMechanism
{
    private const int WantedDepth = 10;

    private MessageQueue? _ping;
    private MessageQueue? _pong;

    public MessageQueueMechanism(RawOptions options) : base(options)
    {
    }

    private string PingName => Options.PosixName(".ping");

    private string PongName => Options.PosixName(".pong");

    public override void RemoveNames()
    {
        MessageQueue.TryUnlink(PingName);
        MessageQueue.TryUnlink(PongName);
    }

    protected override void OpenReceiver()
    {
        // pong first: once ping exists, the sender may rely on both.
        if (Options.HasPong)
        {
            _pong = CreateQueue(PongName, FileAccess.Write);
            Output = new MessageQueueSink(_pong);
        }
        _ping = CreateQueue(PingName, FileAccess.Read);
        Input = new MessageQueueSource(_ping, Options.MessageSize);
    }

    protected override void OpenSender()
    {
        _ping = RetryWhileMissing($"mq_open('{PingName}')", () => MessageQueue.Open(PingName, FileAccess.Write), ex => IsErrno(ex, Errno.ENOENT));
        Output = new MessageQueueSink(_ping);
        if (Options.HasPong)
        {
            _pong = MessageQueue.Open(PongName, FileAccess.Read);
            Input = new MessageQueueSource(_pong, Options.MessageSize);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ping?.Dispose();
            _pong?.Dispose();
        }
    }

    private MessageQueue CreateQueue(string name, FileAccess access)
    {
        int depth = (int)Math.Clamp(MessageQueue.Limits.MaxMessages, 1, WantedDepth);
        while (true)
        {
            try
            {
                return MessageQueue.Create(name, depth, Options.MessageSize, access: access);
            }
            catch (IpcException ex) when (ex.Errno == Errno.EMFILE && depth > 1)
            {
                // RLIMIT_MSGQUEUE (bytes of all this user's queues) is used up: a shallower queue may still fit.
                depth /= 2;
            }
        }
    }
}
