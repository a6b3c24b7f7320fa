namespace Smc.Wire.Inventory;

/// <summary>One partition (or a whole-disk file system) as the agent sees it (docs/api.md: <c>parts[]</c>).</summary>
public sealed class PartitionInfo
{
    /// <summary>1-based partition number in the table (MBR: 1–4 primary, 5+ logical); 0 for a whole-disk file system.</summary>
    public int Number { get; init; }

    /// <summary>Device name of the partition, e.g. <c>/dev/vda1</c>, or <c>disk.img#1</c> for an image file.</summary>
    public required string Device { get; init; }

    /// <summary>Mount point when mounted on the source (<c>/</c>, <c>/boot</c>), otherwise null.</summary>
    public string? Path { get; set; }

    /// <summary><c>ext2</c>, <c>ext3</c>, <c>ext4</c>, <c>xfs</c>, <c>ntfs</c>, <c>vfat</c>, <c>swap</c>, <c>lvm2</c>, or null when unknown.</summary>
    public string? FileSystem { get; init; }

    public long StartBytes { get; init; }

    public required long SizeBytes { get; init; }

    /// <summary>Bytes in use as the file system reports them; null where it doesn't say.</summary>
    public long? UsedBytes { get; init; }

    /// <summary>
    /// True when the partition can be copied block by block (it has a size and is not an MBR extended
    /// container). Skipping free blocks additionally needs a <see cref="FileSystem"/> whose allocation the
    /// agent reads; otherwise every block is read.
    /// </summary>
    public bool CanBlock { get; init; }

    /// <summary>GPT partition type GUID (lower case), or the MBR type byte as two hex digits.</summary>
    public string? TypeId { get; init; }

    /// <summary>GPT unique partition GUID, when GPT.</summary>
    public string? PartitionGuid { get; init; }

    /// <summary>GPT partition name, or the file system label.</summary>
    public string? Label { get; init; }

    /// <summary>File system UUID or serial, when the file system has one.</summary>
    public string? FileSystemId { get; init; }

    /// <summary>MBR active flag, or GPT legacy-BIOS-bootable attribute.</summary>
    public bool Bootable { get; init; }
}
