using Smc.Wire.Inventory;

namespace Smc.Wire.Staging;

/// <summary>One source disk of a round's manifest.</summary>
public sealed class ManifestDisk
{
    /// <summary>Index of the disk in the job, 0 = the system disk; <see cref="ManifestChunk.Disk"/> refers to it.</summary>
    public int Index { get; set; }

    /// <summary>Size of the source disk in bytes; the destination disk is at least this big.</summary>
    public long SizeBytes { get; set; }

    /// <summary>The disk as the agent inspected it when the round started.</summary>
    public required DiskInfo Source { get; set; }

    /// <summary>Bytes read from the source in this round.</summary>
    public long ScannedBytes { get; set; }

    /// <summary>Bytes not sent: free blocks of known file systems and all-zero regions.</summary>
    public long SkippedBytes { get; set; }
}
