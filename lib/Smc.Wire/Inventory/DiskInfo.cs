namespace Smc.Wire.Inventory;

/// <summary>One disk of a source server as the agent sees it (docs/api.md: <c>disks[]</c>).</summary>
public sealed class DiskInfo
{
    /// <summary>Block device or image file path the disk was read from, e.g. <c>/dev/vda</c>.</summary>
    public required string Device { get; init; }

    public required long SizeBytes { get; init; }

    /// <summary><c>gpt</c>, <c>mbr</c> or <c>none</c> (a file system or nothing on the whole disk).</summary>
    public required string PartitionTable { get; init; }

    /// <summary>Logical sector size in bytes (512 for image files).</summary>
    public int SectorSize { get; init; } = 512;

    /// <summary>GPT disk GUID, or the MBR disk signature as 8 hex digits.</summary>
    public string? DiskId { get; init; }

    public List<PartitionInfo> Parts { get; init; } = [];
}
