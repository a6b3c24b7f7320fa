namespace Smc.Wire.Staging;

/// <summary>
/// The fingerprints of a committed round (every non-zero chunk of its disks): what the next round compares with.
/// Kept by the agent after each commit and by the control plane beside the round's image; served to an agent that
/// lost its copy (<c>GET /api/v1/agent/jobs/{jobId}/rounds/{round}/fingerprints</c>).
/// </summary>
public sealed class RoundFingerprints : IChunkedDocument<FingerprintEntry>
{
    public required string JobId { get; set; }

    public int Round { get; set; }

    public int ChunkSize { get; set; }

    /// <summary>Disk sizes in bytes by index: a disk whose size changed is compared with nothing.</summary>
    public List<long> DiskSizes { get; set; } = [];

    /// <summary>Chunks with their fingerprints; <see cref="ManifestChunk.Pack"/> and positions are not kept.</summary>
    public List<FingerprintEntry> Chunks { get; set; } = [];
}

/// <summary>One chunk of <see cref="RoundFingerprints"/>.</summary>
public sealed class FingerprintEntry
{
    public int Disk { get; set; }

    public long Offset { get; set; }

    public int Length { get; set; }

    public required string Fingerprint { get; set; }
}
