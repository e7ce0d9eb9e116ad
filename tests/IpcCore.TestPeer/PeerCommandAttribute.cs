namespace IpcCore.TestPeer;

/// <summary>Marks <c>static int Name(string[] args)</c> as a peer command the tests can start.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PeerCommandAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
