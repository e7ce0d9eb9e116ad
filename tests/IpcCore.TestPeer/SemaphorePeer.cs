using System.Globalization;

namespace IpcCore.TestPeer;

/// <summary>Peer commands for the named-semaphore tests.</summary>
internal static class SemaphorePeer
{
    /// <summary>
    /// <c>sem-pong &lt;ping&gt; &lt;pong&gt; &lt;rounds&gt;</c>: opens both semaphores, prints "ready", then
    /// <c>rounds</c> times waits for <c>ping</c> and posts <c>pong</c>. Exits 3 if a ping does not come
    /// within 15 s.
    /// </summary>
    [PeerCommand("sem-pong")]
    public static int Pong(string[] args)
    {
        string pingName = args[0];
        string pongName = args[1];
        int rounds = int.Parse(args[2], CultureInfo.InvariantCulture);

        using NamedSemaphore ping = NamedSemaphore.Open(pingName);
        using NamedSemaphore pong = NamedSemaphore.Open(pongName);
        Console.WriteLine("ready");
        for (int i = 0; i < rounds; i++)
        {
            if (!ping.Wait(TimeSpan.FromSeconds(15)))
            {
                Console.Error.WriteLine($"no ping {i} within 15 s");
                return 3;
            }
            pong.Post();
        }
        Console.WriteLine("done");
        return 0;
    }
}
