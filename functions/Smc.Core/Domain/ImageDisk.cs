using Smc.Wire.Inventory;

namespace Smc.Core.Domain;

/// <summary>One destination disk of an image (index 0 = system disk) and its partitions as assembled.</summary>
public sealed class ImageDisk
{
    public int Index { get; init; }

    public long SizeBytes { get; init; }

    public string PartitionTable { get; init; } = "none";

    public List<PartitionInfo> Parts { get; init; } = [];

    /// <summary>Bytes written into the disk (the rest is sparse zero).</summary>
    public long WrittenBytes { get; set; }
}
