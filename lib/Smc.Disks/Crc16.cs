namespace Smc.Disks;

/// <summary>
/// CRC-16 (ARC: reflected polynomial 0xA001), the group descriptor checksum of ext4's older gdt_csum (uninit_bg)
/// feature: the raw register, seeded by the caller and never complemented, as e2fsprogs' <c>ext2fs_crc16</c>.
/// </summary>
internal static class Crc16
{
    private const ushort Polynomial = 0xA001;

    private static readonly ushort[] Table = BuildTable();

    public static ushort Update(ushort crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = (ushort)((crc >> 8) ^ Table[(crc ^ b) & 0xFF]);
        }

        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < table.Length; i++)
        {
            int c = i;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[i] = (ushort)c;
        }

        return table;
    }
}
