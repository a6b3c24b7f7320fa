namespace Smc.Disks;

/// <summary>A byte range of a partition: <see cref="Length"/> bytes from <see cref="Start"/>, relative to the partition start.</summary>
/// <param name="Start">First byte, relative to the partition start.</param>
/// <param name="Length">Number of bytes (positive).</param>
public readonly record struct ByteExtent(long Start, long Length)
{
    /// <summary>The first byte after the extent.</summary>
    public long End => Start + Length;
}
