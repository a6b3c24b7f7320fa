using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>Finds runs of set bits in an allocation bitmap (bit <c>i</c> is bit <c>i % 8</c> of byte <c>i / 8</c>, as ext and NTFS store them).</summary>
internal static class BitRuns
{
    public delegate void RunHandler(long firstBit, long bitCount);

    /// <summary>Calls <paramref name="onRun"/> for every maximal run of set bits among bits 0 to <paramref name="bitCount"/> − 1, in order.</summary>
    public static void ForEach(ReadOnlySpan<byte> bitmap, long bitCount, RunHandler onRun)
    {
        bitCount = Math.Min(bitCount, bitmap.Length * 8L);
        long runStart = -1;
        long i = 0;
        while (i < bitCount)
        {
            // Skip whole 64-bit words that continue the current state.
            if ((i & 63) == 0 && i + 64 <= bitCount)
            {
                ulong word = BinaryPrimitives.ReadUInt64LittleEndian(bitmap[(int)(i >> 3)..]);
                if ((word == 0 && runStart < 0) || (word == ulong.MaxValue && runStart >= 0))
                {
                    i += 64;
                    continue;
                }
            }

            bool set = ((bitmap[(int)(i >> 3)] >> (int)(i & 7)) & 1) != 0;
            if (set && runStart < 0)
            {
                runStart = i;
            }
            else if (!set && runStart >= 0)
            {
                onRun(runStart, i - runStart);
                runStart = -1;
            }

            i++;
        }

        if (runStart >= 0)
        {
            onRun(runStart, bitCount - runStart);
        }
    }
}
