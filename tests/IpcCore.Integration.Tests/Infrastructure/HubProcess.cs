using System.Globalization;
using NUnit.Framework;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>A running <c>myipchub</c>.</summary>
internal sealed class HubProcess
{
    public HubProcess(ChildProcess child, string directory)
    {
        Child = child;
        Directory = directory;
    }

    public ChildProcess Child { get; }

    public string Directory { get; }

    public int Pid => Child.Pid;

    /// <summary>Waits for the three start-up lines, the last being "Listening for connections on DIR/hub.sock".</summary>
    public void WaitUntilListening()
    {
        string listening = $"Listening for connections on {Path.Combine(Directory, "hub.sock")}";
        Child.WaitForStdoutLine(l => l.Trim() == listening, Timeouts.Start, $"the hub should print \"{listening}\"");
        var lines = Child.StdoutLines();
        string started = string.Create(CultureInfo.InvariantCulture, $"IPC Hub started (pid {Pid})");
        Assert.That(lines, Does.Contain(started), $"the hub's first line\n{Child.Describe()}");
        Assert.That(lines, Does.Contain("Backends available: socket, shm"), $"the hub's second line\n{Child.Describe()}");
    }

    /// <summary>Stops the hub with <paramref name="signal"/> and asserts a clean exit: 0, "IPC Hub stopped".</summary>
    public void StopGracefully(int signal = ChildProcess.SigTerm)
    {
        Child.Signal(signal);
        int exit = Child.WaitForExit(Timeouts.Stop, $"the hub should stop on signal {signal}");
        Assert.That(exit, Is.Zero, $"the hub's exit code after signal {signal}\n{Child.Describe()}");
        Assert.That(Child.StdoutLines(), Does.Contain("IPC Hub stopped"), $"the hub's last line\n{Child.Describe()}");
    }

    /// <summary>Whether the hub process is still running.</summary>
    public bool IsAlive => !Child.HasExited;
}
