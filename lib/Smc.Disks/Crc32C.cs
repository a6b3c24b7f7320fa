using System.Buffers.Binary;
using System.Numerics;

namespace Smc.Disks;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as ext4's metadata_csum uses it: the raw register, seeded by
/// the caller and never complemented (the kernel's <c>ext4_chksum</c> and e2fsprogs' <c>ext2fs_crc32c_le</c>).
/// <see cref="BitOperations.Crc32C(uint, ulong)"/> uses the CPU's CRC32 instructions where there are any.
/// </summary>
internal static class Crc32C
{
    /// <summary>Runs the register from <paramref name="crc"/> over <paramref name="data"/>.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + sizeof(ulong) <= data.Length; i += sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return crc;
    }

    /// <summary>Runs the register over the four little-endian bytes of <paramref name="value"/>.</summary>
    public static uint Update(uint crc, uint value) => BitOperations.Crc32C(crc, value);
}
