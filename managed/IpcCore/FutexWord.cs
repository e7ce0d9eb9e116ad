using System.Globalization;

namespace IpcCore;

/// <summary>
/// A checked pointer to a 4-byte-aligned 32-bit word used as a futex, usually from
/// <see cref="MappedRegion.GetFutexWord"/>. It does not keep the mapping alive: use it only while the
/// region it points into is not disposed.
/// </summary>
public readonly unsafe struct FutexWord : IEquatable<FutexWord>
{
    private readonly uint* _address;

    /// <summary>Wraps <paramref name="address"/>, which must be non-null and 4-byte aligned.</summary>
    public FutexWord(uint* address)
    {
        Futex.ThrowIfInvalid(address, nameof(address));
        _address = address;
    }

    /// <summary>The word's address in this process.</summary>
    public uint* Address => _address;

    /// <summary>The word's value, read and written with volatile semantics (a full fence is not implied).</summary>
    public uint Value
    {
        get => Volatile.Read(ref *_address);
        set => Volatile.Write(ref *_address, value);
    }

    /// <summary>Atomically sets the word to <paramref name="value"/> if it holds <paramref name="comparand"/>; returns the previous value.</summary>
    public uint CompareExchange(uint value, uint comparand) => Interlocked.CompareExchange(ref *_address, value, comparand);

    /// <summary>Atomically sets the word to <paramref name="value"/>; returns the previous value.</summary>
    public uint Exchange(uint value) => Interlocked.Exchange(ref *_address, value);

    /// <summary>Atomically increments the word; returns the new value.</summary>
    public uint Increment() => Interlocked.Increment(ref *_address);

    /// <summary>Waits while the word holds <paramref name="expected"/>, up to <paramref name="timeout"/> (null: forever).</summary>
    public FutexWaitResult Wait(uint expected, TimeSpan? timeout = null) => Futex.Wait(_address, expected, timeout);

    /// <summary>Waits while the word holds <paramref name="expected"/>, until the CLOCK_MONOTONIC deadline <paramref name="deadlineNs"/>.</summary>
    public FutexWaitResult Wait(uint expected, long deadlineNs) => Futex.Wait(_address, expected, deadlineNs);

    /// <summary>Wakes up to <paramref name="count"/> waiters (default: all); returns how many were woken.</summary>
    public int Wake(int count = int.MaxValue) => Futex.Wake(_address, count);

    public bool Equals(FutexWord other) => _address == other._address;

    public override bool Equals(object? obj) => obj is FutexWord other && Equals(other);

    public override int GetHashCode() => ((nuint)_address).GetHashCode();

    public override string ToString() => "futex 0x" + ((nuint)_address).ToString("x", CultureInfo.InvariantCulture);

    public static bool operator ==(FutexWord left, FutexWord right) => left.Equals(right);

    public static bool operator !=(FutexWord left, FutexWord right) => !left.Equals(right);
}
