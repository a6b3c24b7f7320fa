namespace Smc.Disks;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table driven.
/// Written here because <c>System.IO.Hashing</c> is a NuGet package, not part of the shared framework,
/// and this library depends on the BCL and Smc.Wire only.
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;
    private const uint InitialValue = 0xFFFFFFFFu;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The standard CRC-32 (initial value all ones, final complement), as used by GPT.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(InitialValue, data);

    /// <summary>Runs the raw CRC register over <paramref name="data"/> without pre- or post-conditioning (LVM2 uses this with its own seed).</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < table.Length; i++)
        {
            uint c = i;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
