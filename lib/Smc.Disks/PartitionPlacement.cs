namespace Smc.Disks;

/// <summary>Where one source partition goes on the destination disk (all values in bytes).</summary>
/// <param name="Number">The partition number (MBR slot 1–4, GPT entry index + 1, 0 for a disk without a partition table).</param>
/// <param name="SourceStart">Byte offset on the source disk.</param>
/// <param name="SourceSize">Size on the source disk.</param>
/// <param name="DestinationStart">Byte offset on the destination disk.</param>
/// <param name="DestinationSize">Size on the destination disk (≥ <paramref name="SourceSize"/>; growing the file system inside is a later step).</param>
public sealed record PartitionPlacement(int Number, long SourceStart, long SourceSize, long DestinationStart, long DestinationSize);
