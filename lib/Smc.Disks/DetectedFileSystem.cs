namespace Smc.Disks;

/// <summary>What a superblock says about a partition.</summary>
/// <param name="Type">ext2, ext3, ext4, xfs, ntfs, vfat, swap or lvm2.</param>
/// <param name="UsedBytes">Bytes in use, or null when the file system does not say (swap, LVM) or its allocation data could not be read.</param>
/// <param name="Id">UUID or serial number as blkid prints it.</param>
/// <param name="Label">Volume label.</param>
internal sealed record DetectedFileSystem(string Type, long? UsedBytes, string? Id, string? Label);
