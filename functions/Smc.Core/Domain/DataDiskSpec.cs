namespace Smc.Core.Domain;

/// <summary>A destination data disk: the source disk index (1 = first data disk), its size in GiB and its partitions.</summary>
public sealed class DataDiskSpec
{
    public int Index { get; init; }

    public int Size { get; init; }

    public List<DiskPartSpec> Parts { get; init; } = [];
}
