using System.Globalization;
using System.Runtime.CompilerServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// Linux futexes on shared memory: wait until a 32-bit word changes, wake waiters on a word. The shim
/// uses shared futexes (no FUTEX_PRIVATE_FLAG), so a word in a MAP_SHARED mapping (a
/// <see cref="MappedRegion"/> of <see cref="SharedMemory"/> or a <see cref="MemoryFile"/>) works across
/// processes. Waits and wakes allocate nothing.
/// </summary>
/// <remarks>
/// The word must be 4-byte aligned and must not move while anyone waits on it: prefer the pointer
/// overloads or <see cref="MappedRegion.GetFutexWord"/>. The <c>ref uint</c> overloads are only for
/// words that already live in pinned or unmanaged memory; a <c>ref</c> to a field of a managed object
/// that the GC may move makes a waiter miss its wake.
/// A futex is only a primitive: every result means "re-check the word", and wakers must change the
/// word before they wake so that a waiter which has not started waiting yet sees
/// <see cref="FutexWaitResult.ValueChanged"/> instead of sleeping through the wake.
/// </remarks>
public static unsafe class Futex
{
    /// <summary>
    /// Waits on <paramref name="word"/> while it holds <paramref name="expected"/>, up to
    /// <paramref name="timeout"/> (null: forever).
    /// </summary>
    public static FutexWaitResult Wait(uint* word, uint expected, TimeSpan? timeout = null)
    {
        ThrowIfInvalid(word, nameof(word));
        (long ns, int kind) = IpcTimeout.From(timeout);
        return ToResult(IpcNative.FutexWait(word, expected, ns, kind), word);
    }

    /// <summary>Waits on <paramref name="word"/> while it holds <paramref name="expected"/>, until the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/>.</summary>
    public static FutexWaitResult Wait(uint* word, uint expected, long deadlineNs)
    {
        ThrowIfInvalid(word, nameof(word));
        (long ns, int kind) = IpcTimeout.At(deadlineNs);
        return ToResult(IpcNative.FutexWait(word, expected, ns, kind), word);
    }

    /// <summary>As <see cref="Wait(uint*, uint, TimeSpan?)"/>; <paramref name="word"/> must be in pinned or unmanaged memory.</summary>
    public static FutexWaitResult Wait(ref uint word, uint expected, TimeSpan? timeout = null)
        => Wait((uint*)Unsafe.AsPointer(ref word), expected, timeout);

    /// <summary>As <see cref="Wait(uint*, uint, long)"/>; <paramref name="word"/> must be in pinned or unmanaged memory.</summary>
    public static FutexWaitResult Wait(ref uint word, uint expected, long deadlineNs)
        => Wait((uint*)Unsafe.AsPointer(ref word), expected, deadlineNs);

    /// <summary>Wakes up to <paramref name="count"/> waiters on <paramref name="word"/> (default: all). Returns how many were woken.</summary>
    public static int Wake(uint* word, int count = int.MaxValue)
    {
        ThrowIfInvalid(word, nameof(word));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        int result = IpcNative.FutexWake(word, count);
        if (result < 0)
        {
            IpcError.Throw(result, "futex", Describe(word));
        }
        return result;
    }

    /// <summary>As <see cref="Wake(uint*, int)"/>; <paramref name="word"/> must be in pinned or unmanaged memory.</summary>
    public static int Wake(ref uint word, int count = int.MaxValue)
        => Wake((uint*)Unsafe.AsPointer(ref word), count);

    internal static void ThrowIfInvalid(uint* word, string paramName)
    {
        ArgumentNullException.ThrowIfNull(word, paramName);
        if (((nuint)word & 3) != 0)
        {
            // The kernel would say EINVAL; say why instead.
            throw new ArgumentException($"A futex word must be 4-byte aligned; {Describe(word)} is not.", paramName);
        }
    }

    private static FutexWaitResult ToResult(int result, uint* word)
    {
        if (result >= 0)
        {
            return FutexWaitResult.Woken;
        }
        if (result == -(int)Errno.EAGAIN)
        {
            return FutexWaitResult.ValueChanged;
        }
        if (result == -(int)Errno.ETIMEDOUT)
        {
            return FutexWaitResult.TimedOut;
        }
        if (result == -(int)Errno.EINTR)
        {
            return FutexWaitResult.Interrupted;
        }
        IpcError.Throw(result, "futex", Describe(word));
        return default;
    }

    private static string Describe(uint* word) => "0x" + ((nuint)word).ToString("x", CultureInfo.InvariantCulture);
}
