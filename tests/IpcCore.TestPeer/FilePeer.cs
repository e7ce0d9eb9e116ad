using System.Text;

namespace IpcCore.TestPeer;

/// <summary>Peer commands for the FIFO and file-lock tests.</summary>
internal static class FilePeer
{
    /// <summary>
    /// <c>fifo-write &lt;fifo&gt; &lt;text&gt;</c>: opens the FIFO for writing (waiting for the reader),
    /// writes <c>text</c> (UTF-8), closes it and prints "written".
    /// </summary>
    [PeerCommand("fifo-write")]
    public static int WriteFifo(string[] args)
    {
        using (PipeEnd writer = Fifo.OpenWriter(args[0]))
        {
            writer.WriteAll(Encoding.UTF8.GetBytes(args[1]));
        }
        Console.WriteLine("written");
        return 0;
    }

    /// <summary>
    /// <c>flock-hold &lt;file&gt;</c>: takes the exclusive lock without waiting and prints "locked" (or
    /// "busy" and exits 3), then holds it until a line arrives on stdin.
    /// </summary>
    [PeerCommand("flock-hold")]
    public static int HoldLock(string[] args)
    {
        using FileLock? held = FileLock.TryAcquireExclusive(args[0]);
        if (held is null)
        {
            Console.WriteLine("busy");
            return 3;
        }
        Console.WriteLine("locked");
        _ = Console.ReadLine();
        return 0;
    }
}
