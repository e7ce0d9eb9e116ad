using System.Globalization;

namespace IpcCore.TestPeer;

/// <summary>Peer commands for the message-queue tests.</summary>
internal static class MessageQueuePeer
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// <c>mq-echo &lt;in&gt; &lt;out&gt; &lt;count&gt;</c>: opens both queues, prints "ready", waits for "go" on
    /// stdin (so the test can queue every message first), then receives <c>count</c> messages from
    /// <c>in</c> and sends each to <c>out</c> at priority 0, so <c>out</c> keeps the order they were
    /// received in. Finally prints "priorities p1 p2 ..." in that order.
    /// </summary>
    [PeerCommand("mq-echo")]
    public static int Echo(string[] args)
    {
        string inName = args[0];
        string outName = args[1];
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);

        using MessageQueue input = MessageQueue.Open(inName, FileAccess.Read);
        using MessageQueue output = MessageQueue.Open(outName, FileAccess.Write);
        Console.WriteLine("ready");
        if (Console.ReadLine() != "go")
        {
            Console.Error.WriteLine("expected 'go' on stdin");
            return 2;
        }

        byte[] buffer = new byte[input.MaxMessageSize];
        var priorities = new List<uint>(count);
        for (int i = 0; i < count; i++)
        {
            int length = input.Receive(buffer, out uint priority, s_timeout);
            priorities.Add(priority);
            output.Send(buffer.AsSpan(0, length), 0, s_timeout);
        }
        Console.WriteLine("priorities " + string.Join(' ', priorities));
        return 0;
    }
}
