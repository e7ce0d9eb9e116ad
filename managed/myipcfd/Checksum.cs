using System.Runtime.InteropServices;

namespace MyIpcFd;

/// <summary>
/// FNV-1a over 64-bit words (then the odd tail bytes): not a cryptographic hash, but every changed, lost or
/// reordered word changes it, and it runs at a few GB/s, so it does not hide the transfers it checks.
/// </summary>
internal static class Checksum
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        ulong hash = OffsetBasis;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong word in words)
        {
            hash = (hash ^ word) * Prime;
        }
        foreach (byte b in data[(words.Length * sizeof(ulong))..])
        {
            hash = (hash ^ b) * Prime;
        }
        return (hash ^ (ulong)data.Length) * Prime;
    }
}

/// <summary>Deterministic pseudo-random bytes (xorshift64*): the same size gives the same bytes on every run.</summary>
internal static class Payload
{
    private const ulong Seed = 0x9E3779B97F4A7C15;

    public static byte[] Create(int size)
    {
        byte[] bytes = GC.AllocateUninitializedArray<byte>(size);
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan());
        ulong x = Seed;
        for (int i = 0; i < words.Length; i++)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            words[i] = x * 0x2545F4914F6CDD1D;
        }
        for (int i = words.Length * sizeof(ulong); i < bytes.Length; i++)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            bytes[i] = (byte)((x * 0x2545F4914F6CDD1D) >> 56);
        }
        return bytes;
    }
}
