namespace Smc.Disks;

/// <summary>Detects the file system (or LVM2 PV / swap) at the start of a partition from its superblock.</summary>
internal static class FileSystemProbe
{
    /// <summary>Bytes read from the start of a partition for detection (covers the swap signature for 64 KiB pages).</summary>
    public const int HeadSize = 64 * 1024;

    /// <summary>
    /// The file system at <paramref name="offset"/>, or null when none is recognised or its superblock is corrupt.
    /// Never throws for bad on-disk data.
    /// </summary>
    public static DetectedFileSystem? Detect(DiskReader reader, long offset, long size)
    {
        try
        {
            if (size <= 0)
            {
                return null;
            }

            byte[] head = reader.ReadBytes(offset, (int)Math.Min(size, HeadSize));
            if (LvmPvLabel.ReadFrom(head) is { } pv)
            {
                return new DetectedFileSystem("lvm2", null, pv.Uuid, null);
            }

            if (XfsSuperblock.ReadFrom(head) is { } xfs)
            {
                if ((long)xfs.DataBlocks > size / xfs.BlockSize)
                {
                    return null; // Larger than its partition: truncated or corrupt.
                }

                return new DetectedFileSystem("xfs", xfs.UsedBytes, xfs.Uuid, xfs.Label);
            }

            if (head.Length >= ExtSuperblock.Offset + ExtSuperblock.Size
                && ExtSuperblock.ReadFrom(head.AsSpan(ExtSuperblock.Offset, ExtSuperblock.Size)) is { } ext)
            {
                if ((long)ext.BlocksCount > size / ext.BlockSize)
                {
                    return null; // Larger than its partition: truncated or corrupt.
                }

                return new DetectedFileSystem(ext.FileSystemType, ext.UsedBytes, ext.Uuid, ext.Label);
            }

            if (NtfsBootSector.ReadFrom(head) is { } ntfs)
            {
                return NtfsVolume.Probe(reader, offset, size, ntfs);
            }

            if (FatBootSector.ReadFrom(head) is { } fat)
            {
                return FatVolume.Probe(reader, offset, size, fat);
            }

            if (SwapHeader.ReadFrom(head) is { } swap)
            {
                return new DetectedFileSystem("swap", null, swap.Uuid, swap.Label);
            }

            return null;
        }
        catch (DiskFormatException)
        {
            // A corrupt superblock (or an unreadable partition) does not fail the disk's inspection.
            return null;
        }
    }

    /// <summary>
    /// True when LBA 0 is an NTFS or FAT boot sector rather than an MBR: both end in 0x55AA, so a whole-disk
    /// NTFS or FAT volume would otherwise be mistaken for a partition table.
    /// </summary>
    public static bool IsVolumeBootSector(ReadOnlySpan<byte> sector0)
    {
        try
        {
            return NtfsBootSector.ReadFrom(sector0) is not null || FatBootSector.ReadFrom(sector0) is not null;
        }
        catch (DiskFormatException)
        {
            return false;
        }
    }
}
