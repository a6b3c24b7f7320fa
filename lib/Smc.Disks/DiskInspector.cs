using Smc.Wire.Inventory;

namespace Smc.Disks;

/// <summary>
/// Inspects a disk or disk image: partition table (GPT, MBR with logical partitions, or none) and, per partition, the
/// file system found by its superblock (ext2/3/4, XFS, NTFS, FAT12/16/32 as <c>vfat</c>, Linux swap, LVM2 PV).
/// </summary>
/// <remarks>
/// <para>
/// Table choice: a protective MBR (an entry of type 0xEE) means GPT — the primary header, else the backup header in the
/// last LBA; if neither is valid the inspection fails with <see cref="DiskErrorCodes.InvalidGpt"/>. Otherwise a 0x55AA
/// signature in LBA 0 means MBR, unless LBA 0 is an NTFS or FAT boot sector (a whole-disk volume). Without a signature
/// the table is <c>none</c> and a whole-disk file system, if any, is reported as partition number 0.
/// </para>
/// <para>
/// <see cref="PartitionInfo.CanBlock"/>: true for every partition with a non-zero size (a block copy always works,
/// whatever is inside), false for an MBR extended partition, which is only a container for the logical partitions
/// listed after it. Whether free blocks can be skipped during the copy depends on <see cref="PartitionInfo.FileSystem"/>
/// being known (and <see cref="PartitionInfo.UsedBytes"/> non-null), not on this flag.
/// </para>
/// <para>
/// <see cref="PartitionInfo.UsedBytes"/>: ext2/3/4 (blocks − free blocks) × block size and XFS (dblocks − fdblocks) ×
/// block size from the superblock (exact when unmounted; the kernel updates these lazily on a mounted volume);
/// NTFS set bits in <c>$Bitmap</c> × cluster size; FAT allocated clusters × cluster size (reserved sectors, FATs and the
/// FAT12/16 root directory region are not counted). Null for swap, LVM2 and unknown contents.
/// </para>
/// <para>
/// A corrupt partition table throws <see cref="DiskFormatException"/>; a corrupt file system does not: that partition is
/// reported with a null <see cref="PartitionInfo.FileSystem"/> (or a null <see cref="PartitionInfo.UsedBytes"/> when only
/// the allocation data is unreadable).
/// </para>
/// </remarks>
public static class DiskInspector
{
    /// <summary>
    /// Opens <paramref name="path"/> read-only (block device or image file) and inspects it. A block device is reported
    /// under its real name (a <c>/dev/disk/by-id/…</c> link becomes e.g. <c>/dev/sda</c>, so partitions become <c>/dev/sda1</c>).
    /// </summary>
    /// <exception cref="DiskFormatException">The disk cannot be read, or its partition table is corrupt or truncated.</exception>
    public static DiskInfo Inspect(string path)
    {
        using DiskReader reader = DiskReader.Open(path);
        return Inspect(reader, reader.BlockDevicePath ?? path);
    }

    /// <summary>Inspects an open disk; <paramref name="deviceName"/> becomes <see cref="DiskInfo.Device"/> and the stem of partition names.</summary>
    /// <exception cref="DiskFormatException">The disk cannot be read, or its partition table is corrupt or truncated.</exception>
    public static DiskInfo Inspect(DiskReader reader, string deviceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(deviceName);
        DiskLayout layout = ReadLayout(reader);
        var parts = new List<PartitionInfo>();
        if (layout.Kind == PartitionTableKind.None)
        {
            DetectedFileSystem? fs = FileSystemProbe.Detect(reader, 0, reader.Length);
            if (fs is not null)
            {
                parts.Add(new PartitionInfo
                {
                    Number = 0,
                    Device = deviceName,
                    FileSystem = fs.Type,
                    StartBytes = 0,
                    SizeBytes = reader.Length,
                    UsedBytes = fs.UsedBytes,
                    CanBlock = reader.Length > 0,
                    Label = fs.Label,
                    FileSystemId = fs.Id,
                });
            }
        }
        else
        {
            foreach (TablePartition p in layout.Partitions)
            {
                DetectedFileSystem? fs = p.IsExtendedContainer ? null : FileSystemProbe.Detect(reader, p.StartBytes, p.SizeBytes);
                parts.Add(new PartitionInfo
                {
                    Number = p.Number,
                    Device = PartitionNaming.PartitionDevice(deviceName, p.Number, reader.IsBlockDevice),
                    FileSystem = fs?.Type,
                    StartBytes = p.StartBytes,
                    SizeBytes = p.SizeBytes,
                    UsedBytes = fs?.UsedBytes,
                    CanBlock = !p.IsExtendedContainer && p.SizeBytes > 0,
                    TypeId = p.TypeId,
                    PartitionGuid = p.GptEntry?.UniqueGuid.ToString("D"),
                    Label = p.Name ?? fs?.Label,
                    FileSystemId = fs?.Id,
                    Bootable = p.Bootable,
                });
            }
        }

        return new DiskInfo
        {
            Device = deviceName,
            SizeBytes = reader.Length,
            PartitionTable = layout.KindName,
            SectorSize = reader.SectorSize,
            DiskId = layout.DiskId,
            Parts = parts,
        };
    }

    /// <summary>Reads and validates the partition table only (no file system detection).</summary>
    /// <exception cref="DiskFormatException">The disk cannot be read, or its partition table is corrupt or truncated.</exception>
    public static DiskLayout ReadLayout(DiskReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return PartitionTableReader.Read(reader);
    }
}
