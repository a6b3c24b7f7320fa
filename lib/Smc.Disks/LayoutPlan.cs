namespace Smc.Disks;

/// <summary>
/// The source partition scheme laid out on a destination disk, made by <see cref="DestinationLayout.Plan"/>: where each
/// partition goes, how source byte ranges map to the destination, and the partition table sectors to write last.
/// </summary>
public sealed class LayoutPlan
{
    private readonly PartitionPlacement[] _diskOrder;

    internal LayoutPlan(
        long sourceDiskSize,
        long destinationDiskSize,
        PartitionTableKind kind,
        IReadOnlyList<PartitionPlacement> partitions,
        long headRegionLength,
        IReadOnlyList<(long Offset, byte[] Bytes)> tableWrites)
    {
        SourceDiskSize = sourceDiskSize;
        DestinationDiskSize = destinationDiskSize;
        Kind = kind;
        Partitions = partitions;
        HeadRegionLength = headRegionLength;
        TableWrites = tableWrites;
        _diskOrder = [.. partitions.OrderBy(p => p.SourceStart)];
    }

    public long SourceDiskSize { get; }

    public long DestinationDiskSize { get; }

    /// <summary>The partition table kind, the same on both disks.</summary>
    public PartitionTableKind Kind { get; }

    /// <summary>Every partition, by number. Partitions keep their order on the disk.</summary>
    public IReadOnlyList<PartitionPlacement> Partitions { get; }

    /// <summary>
    /// Bytes before the first partition (for a disk without partitions: the GPT entry area, or the first MiB for MBR;
    /// 0 without a partition table). They are copied to the same offsets (boot loaders live there, e.g. GRUB's core.img
    /// after the MBR); the table sectors among them are then overwritten by <see cref="TableWrites"/>.
    /// </summary>
    public long HeadRegionLength { get; }

    /// <summary>
    /// The bytes to write last, at absolute destination offsets. GPT: the protective MBR, the primary header and its
    /// entry array, the backup entry array and the backup header at the end of the destination. MBR: sector 0. None:
    /// nothing. They reflect the new starts and sizes; CRCs are correct.
    /// </summary>
    public IReadOnlyList<(long Offset, byte[] Bytes)> TableWrites { get; }

    /// <summary>
    /// Where a source byte range goes: the destination offset of [<paramref name="sourceOffset"/>,
    /// <paramref name="sourceOffset"/> + <paramref name="length"/>) when the whole range lies in one partition or in the
    /// head region before the first partition (identity there, but the table sectors are overwritten later by
    /// <see cref="TableWrites"/>); null when it lies outside both — the GPT backup area at the source end, which is
    /// rewritten, or unallocated space between or after partitions, which holds nothing — and the caller drops it.
    /// </summary>
    /// <exception cref="ArgumentException">The range straddles the boundary of a partition or of the head region.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or not inside the source disk.</exception>
    public long? MapRange(long sourceOffset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceOffset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (sourceOffset > SourceDiskSize - length)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceOffset), sourceOffset, $"The range of {length} bytes ends past the {SourceDiskSize}-byte source disk.");
        }

        long end = sourceOffset + length;
        if (end <= HeadRegionLength)
        {
            return sourceOffset;
        }

        if (sourceOffset < HeadRegionLength)
        {
            throw new ArgumentException(Straddles(sourceOffset, length, "the end of the head region"), nameof(sourceOffset));
        }

        foreach (PartitionPlacement p in _diskOrder)
        {
            long partitionEnd = p.SourceStart + p.SourceSize;
            if (sourceOffset >= p.SourceStart && end <= partitionEnd)
            {
                return p.DestinationStart + (sourceOffset - p.SourceStart);
            }

            if (sourceOffset < partitionEnd && end > p.SourceStart)
            {
                throw new ArgumentException(Straddles(sourceOffset, length, $"a boundary of partition {p.Number}"), nameof(sourceOffset));
            }
        }

        return null;
    }

    private static string Straddles(long offset, int length, string what) =>
        $"The source range at {offset} of {length} bytes straddles {what}.";
}
