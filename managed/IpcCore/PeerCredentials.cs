namespace IpcCore;

/// <summary>
/// Who is at the other end of a connected <see cref="UnixSocket"/> (SO_PEERCRED): the kernel's record of
/// the peer's pid and effective uid/gid when it connected (or, for a listener's clients, when the
/// listener called listen). Unlike anything the peer sends, it cannot be forged.
/// </summary>
/// <param name="Pid">The peer's process id at connect time.</param>
/// <param name="Uid">The peer's effective user id.</param>
/// <param name="Gid">The peer's effective group id.</param>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid);
