using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks.Tests.Support;

/// <summary>
/// Puts files into the root directory of a FAT12/16/32 image by hand — written before mtools was among the tools here,
/// and mkfs.vfat cannot populate. Parses only the BPB fields it needs (independently of the library), allocates free
/// clusters from the first FAT (deliberately leaving one free cluster inside the file to fragment it), writes the chain
/// into every FAT copy, the data, an 8.3 directory entry and, on FAT32, the FSInfo free count. <c>fsck.vfat</c> checks the result.
/// </summary>
internal static class FatFiles
{
    private const int DirectoryEntrySize = 32;
    private const byte AttributeArchive = 0x20;
    private const ushort Date1980January1 = (1 << 5) | 1;

    /// <summary>Adds <paramref name="content"/> as root directory file <paramref name="name"/> (8 characters) + <paramref name="extension"/> (3); returns its clusters in chain order.</summary>
    public static IReadOnlyList<long> AddFile(string image, string name, string extension, byte[] content)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        var boot = new byte[512];
        file.ReadExactly(boot);
        int bps = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(11));
        int spc = boot[13];
        int reserved = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(14));
        int fats = boot[16];
        int rootEntries = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(17));
        long totalSectors = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(19));
        if (totalSectors == 0)
        {
            totalSectors = BinaryPrimitives.ReadUInt32LittleEndian(boot.AsSpan(32));
        }

        long fatSize = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(22));
        bool fat32 = fatSize == 0;
        if (fat32)
        {
            fatSize = BinaryPrimitives.ReadUInt32LittleEndian(boot.AsSpan(36));
        }

        long rootSectors = ((rootEntries * 32L) + bps - 1) / bps;
        long firstData = reserved + (fats * fatSize) + rootSectors;
        long clusters = (totalSectors - firstData) / spc;
        int bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
        long clusterSize = (long)bps * spc;
        var fat = new byte[fatSize * bps];
        file.Position = reserved * (long)bps;
        file.ReadExactly(fat);

        // Allocate: the first half of the clusters, skip one free cluster, then the rest.
        long needed = Math.Max(1, (content.Length + clusterSize - 1) / clusterSize);
        var chain = new List<long>();
        bool skipped = needed < 2;
        for (long c = 2; c < clusters + 2 && chain.Count < needed; c++)
        {
            if (Get(fat, bits, c) != 0)
            {
                continue;
            }

            if (!skipped && chain.Count == needed / 2)
            {
                skipped = true;
                continue;
            }

            chain.Add(c);
        }

        if (chain.Count < needed)
        {
            throw new InvalidOperationException($"{image} has no room for {content.Length} bytes.");
        }

        uint endOfChain = bits switch { 12 => 0xFFF, 16 => 0xFFFF, _ => 0x0FFFFFFF };
        for (int i = 0; i < chain.Count; i++)
        {
            Set(fat, bits, chain[i], i + 1 < chain.Count ? (uint)chain[i + 1] : endOfChain);
        }

        for (int copy = 0; copy < fats; copy++)
        {
            file.Position = (reserved + (copy * fatSize)) * bps;
            file.Write(fat);
        }

        for (int i = 0; i < chain.Count; i++)
        {
            file.Position = ((firstData * bps) + ((chain[i] - 2) * clusterSize));
            int start = (int)(i * clusterSize);
            file.Write(content, start, (int)Math.Min(clusterSize, content.Length - start));
        }

        // The directory entry: the FAT12/16 root region, or the FAT32 root directory's first cluster.
        long rootOffset = fat32
            ? (firstData * bps) + ((BinaryPrimitives.ReadUInt32LittleEndian(boot.AsSpan(44)) - 2L) * clusterSize)
            : (reserved + (fats * fatSize)) * bps;
        long rootBytes = fat32 ? clusterSize : rootSectors * bps;
        var dir = new byte[rootBytes];
        file.Position = rootOffset;
        file.ReadExactly(dir);
        int slot = 0;
        while (dir[slot] is not (0x00 or 0xE5))
        {
            slot += DirectoryEntrySize;
        }

        Span<byte> entry = dir.AsSpan(slot, DirectoryEntrySize);
        entry.Clear();
        Encoding.ASCII.GetBytes(name.PadRight(8) + extension.PadRight(3), entry);
        entry[11] = AttributeArchive;
        BinaryPrimitives.WriteUInt16LittleEndian(entry[16..], Date1980January1); // created
        BinaryPrimitives.WriteUInt16LittleEndian(entry[18..], Date1980January1); // accessed
        BinaryPrimitives.WriteUInt16LittleEndian(entry[20..], (ushort)(chain[0] >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(entry[24..], Date1980January1); // written
        BinaryPrimitives.WriteUInt16LittleEndian(entry[26..], (ushort)chain[0]);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[28..], (uint)content.Length);
        file.Position = rootOffset + slot;
        file.Write(entry);

        if (fat32)
        {
            long fsInfo = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(48)) * (long)bps;
            var info = new byte[512];
            file.Position = fsInfo;
            file.ReadExactly(info);
            uint free = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(488));
            if (free != uint.MaxValue)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(488), free - (uint)chain.Count);
                file.Position = fsInfo;
                file.Write(info);
            }
        }

        return chain;
    }

    /// <summary>The byte offset of <paramref name="cluster"/> in the image.</summary>
    public static long ClusterOffset(string image, long cluster)
    {
        var boot = new byte[512];
        using (var file = new FileStream(image, FileMode.Open, FileAccess.Read))
        {
            file.ReadExactly(boot);
        }

        int bps = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(11));
        long fatSize = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(22));
        if (fatSize == 0)
        {
            fatSize = BinaryPrimitives.ReadUInt32LittleEndian(boot.AsSpan(36));
        }

        long rootSectors = ((BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(17)) * 32L) + bps - 1) / bps;
        long firstData = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(14)) + (boot[16] * fatSize) + rootSectors;
        return (firstData * bps) + ((cluster - 2) * bps * boot[13]);
    }

    private static uint Get(byte[] fat, int bits, long cluster) => bits switch
    {
        12 => (uint)((cluster & 1) == 0
            ? fat[cluster * 3 / 2] | ((fat[(cluster * 3 / 2) + 1] & 0x0F) << 8)
            : (fat[cluster * 3 / 2] >> 4) | (fat[(cluster * 3 / 2) + 1] << 4)),
        16 => BinaryPrimitives.ReadUInt16LittleEndian(fat.AsSpan((int)(cluster * 2))),
        _ => BinaryPrimitives.ReadUInt32LittleEndian(fat.AsSpan((int)(cluster * 4))) & 0x0FFFFFFF,
    };

    private static void Set(byte[] fat, int bits, long cluster, uint value)
    {
        switch (bits)
        {
            case 12:
                int at = (int)(cluster * 3 / 2);
                if ((cluster & 1) == 0)
                {
                    fat[at] = (byte)value;
                    fat[at + 1] = (byte)((uint)(fat[at + 1] & 0xF0) | ((value >> 8) & 0x0F));
                }
                else
                {
                    fat[at] = (byte)((uint)(fat[at] & 0x0F) | ((value << 4) & 0xF0));
                    fat[at + 1] = (byte)(value >> 4);
                }

                break;
            case 16:
                BinaryPrimitives.WriteUInt16LittleEndian(fat.AsSpan((int)(cluster * 2)), (ushort)value);
                break;
            default:
                uint old = BinaryPrimitives.ReadUInt32LittleEndian(fat.AsSpan((int)(cluster * 4)));
                BinaryPrimitives.WriteUInt32LittleEndian(fat.AsSpan((int)(cluster * 4)), (old & 0xF0000000) | value);
                break;
        }
    }
}
