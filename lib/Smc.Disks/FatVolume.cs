using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// Reads what the inventory needs from a FAT12/16/32 volume: the used clusters from the first FAT and the volume label
/// from the root directory (falling back to the boot sector's).
/// </summary>
internal static class FatVolume
{
    /// <summary>FAT bytes read per chunk (a multiple of 3 and 4, so FAT12 pairs and FAT32 entries never straddle chunks).</summary>
    private const int ChunkSize = 768 * 1024;

    /// <summary>Most root directory bytes scanned for the volume label entry.</summary>
    private const int MaxRootScanBytes = 64 * 1024;

    private const int DirectoryEntrySize = 32;
    private const int AttributeOffset = 11;
    private const byte AttributeVolumeId = 0x08;
    private const byte AttributeDirectory = 0x10;
    private const byte AttributeLongName = 0x0F;
    private const byte DeletedEntry = 0xE5;

    /// <summary>
    /// Used bytes = allocated clusters × cluster size, where an allocated cluster is a non-zero entry among the first
    /// FAT's entries 2..N+1 (bad-cluster marks count as allocated). The reserved sectors, the FATs and the FAT12/16 root
    /// directory region are not counted: they are metadata outside the cluster heap.
    /// </summary>
    public static DetectedFileSystem Probe(DiskReader reader, long volumeOffset, long volumeSize, FatBootSector boot)
    {
        long? used = null;
        string? label = boot.BootLabel;
        if (boot.TotalSectors <= volumeSize / boot.BytesPerSector)
        {
            try
            {
                used = CountUsedClusters(reader, volumeOffset, boot) * boot.ClusterSize;
            }
            catch (DiskFormatException)
            {
                // Valid boot sector, unreadable FAT: still FAT, usage unknown.
            }

            try
            {
                label = ReadRootLabel(reader, volumeOffset, boot) ?? label;
            }
            catch (DiskFormatException)
            {
                // Keep the boot sector label.
            }
        }

        return new DetectedFileSystem("vfat", used, boot.VolumeId, label);
    }

    /// <summary>
    /// Used byte extents of the volume: the reserved sectors, the FATs and the FAT12/16 root directory region, then every
    /// cluster whose first-FAT entry is not zero (bad-cluster marks included).
    /// </summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> when the volume does not fit its partition.</exception>
    public static IReadOnlyList<ByteExtent> UsedExtents(DiskReader reader, long volumeOffset, long volumeSize, FatBootSector boot)
    {
        if (boot.TotalSectors > volumeSize / boot.BytesPerSector)
        {
            throw new DiskFormatException(
                DiskErrorCodes.CorruptFileSystem,
                $"FAT: {boot.TotalSectors} sectors of {boot.BytesPerSector} bytes do not fit the {volumeSize}-byte partition.");
        }

        var used = new ExtentBuilder(volumeSize);
        long dataStart = boot.FirstDataSector * boot.BytesPerSector;
        long clusterSize = boot.ClusterSize;
        used.Add(0, dataStart);
        ScanFat(reader, volumeOffset, boot, cluster => used.Add(dataStart + ((cluster - 2) * clusterSize), clusterSize));
        return used.Build();
    }

    private static long CountUsedClusters(DiskReader reader, long volumeOffset, FatBootSector boot)
    {
        long used = 0;
        ScanFat(reader, volumeOffset, boot, _ => used++);
        return used;
    }

    /// <summary>Calls <paramref name="onUsed"/> with each cluster number 2..N+1 whose entry in the first FAT is not zero, in order.</summary>
    private static void ScanFat(DiskReader reader, long volumeOffset, FatBootSector boot, Action<long> onUsed)
    {
        long fatOffset = volumeOffset + (boot.FirstFatSector * boot.BytesPerSector);
        long entries = boot.ClusterCount + 2;
        long fatBytes = boot.FatBits switch
        {
            12 => ((entries * 3) + 1) / 2,
            16 => entries * 2,
            _ => entries * 4,
        };
        var buffer = new byte[(int)Math.Min(ChunkSize, fatBytes)];
        long entry = 0; // index of the first entry in the current chunk
        for (long done = 0; done < fatBytes;)
        {
            int n = (int)Math.Min(buffer.Length, fatBytes - done);
            Span<byte> chunk = buffer.AsSpan(0, n);
            reader.ReadAt(fatOffset + done, chunk);
            switch (boot.FatBits)
            {
                case 12:
                    for (int i = 0; entry < entries && ((i / 2 * 3) + 1 + (i % 2)) < n; i++, entry++)
                    {
                        int b = i / 2 * 3;
                        int value = i % 2 == 0 ? chunk[b] | ((chunk[b + 1] & 0x0F) << 8) : (chunk[b + 1] >> 4) | (chunk[b + 2] << 4);
                        if (entry >= 2 && value != 0)
                        {
                            onUsed(entry);
                        }
                    }

                    break;
                case 16:
                    for (int i = 0; i + 2 <= n && entry < entries; i += 2, entry++)
                    {
                        if (entry >= 2 && BinaryPrimitives.ReadUInt16LittleEndian(chunk[i..]) != 0)
                        {
                            onUsed(entry);
                        }
                    }

                    break;
                default:
                    for (int i = 0; i + 4 <= n && entry < entries; i += 4, entry++)
                    {
                        if (entry >= 2 && (BinaryPrimitives.ReadUInt32LittleEndian(chunk[i..]) & 0x0FFFFFFF) != 0)
                        {
                            onUsed(entry);
                        }
                    }

                    break;
            }

            done += n;
        }
    }

    /// <summary>The volume-label entry of the root directory (FAT32: its first cluster only), or null.</summary>
    private static string? ReadRootLabel(DiskReader reader, long volumeOffset, FatBootSector boot)
    {
        long sector;
        long bytes;
        if (boot.FatBits == 32)
        {
            uint cluster = boot.RootCluster;
            if (cluster < 2 || cluster >= boot.ClusterCount + 2)
            {
                return null;
            }

            sector = boot.FirstDataSector + ((cluster - 2L) * boot.SectorsPerCluster);
            bytes = boot.ClusterSize;
        }
        else
        {
            sector = boot.FirstFatSector + (boot.FatCount * boot.FatSize);
            bytes = boot.RootDirectorySectors * boot.BytesPerSector;
        }

        byte[] dir = reader.ReadBytes(volumeOffset + (sector * boot.BytesPerSector), (int)Math.Min(bytes, MaxRootScanBytes));
        for (int pos = 0; pos + DirectoryEntrySize <= dir.Length; pos += DirectoryEntrySize)
        {
            byte first = dir[pos];
            if (first == 0)
            {
                break;
            }

            byte attributes = dir[pos + AttributeOffset];
            if (first == DeletedEntry || (attributes & AttributeLongName) == AttributeLongName)
            {
                continue;
            }

            if ((attributes & AttributeVolumeId) != 0 && (attributes & AttributeDirectory) == 0)
            {
                return FatBootSector.DecodeLabel(dir.AsSpan(pos, 11));
            }
        }

        return null;
    }
}
