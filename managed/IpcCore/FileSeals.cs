using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// File seals of a <see cref="MemoryFile"/> (fcntl(2) F_ADD_SEALS). Once added a seal can never be
/// removed, which is what lets a receiver trust a memfd that another process hands it.
/// </summary>
[Flags]
public enum FileSeals
{
    /// <summary>No seals.</summary>
    None = 0,

    /// <summary>No further seals may be added.</summary>
    Seal = (int)Seals.F_SEAL_SEAL,

    /// <summary>The file may not shrink.</summary>
    Shrink = (int)Seals.F_SEAL_SHRINK,

    /// <summary>The file may not grow.</summary>
    Grow = (int)Seals.F_SEAL_GROW,

    /// <summary>The contents may not change (fails with EBUSY while a writable shared mapping exists).</summary>
    Write = (int)Seals.F_SEAL_WRITE,

    /// <summary>No new writable mappings or writes; mappings that are already writable keep working.</summary>
    FutureWrite = (int)Seals.F_SEAL_FUTURE_WRITE,

    /// <summary>Contents and size are frozen and no seal can be removed or added: safe to hand to a reader.</summary>
    Immutable = Shrink | Grow | Write | Seal,
}
