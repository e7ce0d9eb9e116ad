using System.Buffers.Binary;

namespace IpcCore.TestPeer;

/// <summary>
/// The records of the ring stress tests, shared by the tests and the peer: a record for sequence number
/// n has a length derived from n, carries n in its first 8 bytes, bytes derived from n in the middle and
/// an FNV-1a checksum of everything before it in its last 4 bytes, so loss, duplication, reordering and
/// torn records are all detected.
/// </summary>
public static class RingRecords
{
    /// <summary>The shortest record: sequence number + checksum.</summary>
    public const int MinLength = 12;

    /// <summary>The length of record <paramref name="seq"/>, from <see cref="MinLength"/> to <paramref name="maxLength"/>.</summary>
    public static int LengthOf(ulong seq, int maxLength) => MinLength + (int)(Mix(seq) % (ulong)(maxLength - MinLength + 1));

    /// <summary>Fills <paramref name="destination"/> (of <see cref="LengthOf"/> bytes) as record <paramref name="seq"/>.</summary>
    public static void Fill(Span<byte> destination, ulong seq)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, seq);
        Span<byte> body = destination[8..^4];
        byte b = (byte)(seq * 31);
        for (int i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(b + i * 7);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination[^4..], Checksum(destination[..^4]));
    }

    /// <summary>Null when <paramref name="record"/> is exactly record <paramref name="expectedSeq"/>, else what is wrong.</summary>
    public static string? Check(ReadOnlySpan<byte> record, ulong expectedSeq, int maxLength)
    {
        if (record.Length < MinLength)
        {
            return $"record {expectedSeq}: {record.Length} bytes, shorter than {MinLength}";
        }
        ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(record);
        if (seq != expectedSeq)
        {
            return $"expected record {expectedSeq}, got {seq} (lost, duplicated or reordered)";
        }
        int expectedLength = LengthOf(seq, maxLength);
        if (record.Length != expectedLength)
        {
            return $"record {seq}: {record.Length} bytes, expected {expectedLength}";
        }
        uint sum = BinaryPrimitives.ReadUInt32LittleEndian(record[^4..]);
        if (sum != Checksum(record[..^4]))
        {
            return $"record {seq}: checksum mismatch (torn record)";
        }
        ReadOnlySpan<byte> body = record[8..^4];
        byte b = (byte)(seq * 31);
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != (byte)(b + i * 7))
            {
                return $"record {seq}: byte {8 + i} is {body[i]}, expected {(byte)(b + i * 7)}";
            }
        }
        return null;
    }

    public static uint Checksum(ReadOnlySpan<byte> bytes)
    {
        uint hash = 2166136261;
        foreach (byte x in bytes)
        {
            hash = (hash ^ x) * 16777619;
        }
        return hash;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        return x;
    }
}
