using Smc.Disks;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// What assembling one committed round needs (<see cref="CommittedRounds"/> loads it once per process): the manifest
/// (checked against its recorded hash), the unwrapped data key and the fingerprint key, and each disk's chunk order and
/// destination layout.
/// </summary>
internal sealed class RoundContext
{
    public required RoundManifest Manifest { get; init; }

    public required ChunkKeys Keys { get; init; }

    /// <summary>Per manifest disk index: indices of the chunks sent (with a pack), sorted by source offset.</summary>
    public required Dictionary<int, int[]> ChunksByDisk { get; init; }

    public required Dictionary<int, DiskMapping> Mappings { get; init; }

    /// <summary>For an incremental round: the image whose chunk references its unchanged chunks take.</summary>
    public string? BaseImageId { get; init; }
}

/// <summary>The round's data key (opens frames) and the job's fingerprint key (checks their plaintext).</summary>
internal sealed record ChunkKeys(byte[] DataKey, byte[] FingerprintKey);

/// <summary>Where source bytes of one disk go on its destination disk, and the table sectors to write last.</summary>
internal sealed class DiskMapping
{
    public required long DestinationSize { get; init; }

    public required string PartitionTable { get; init; }

    public required Func<long, int, long?> Map { get; init; }

    public required IReadOnlyList<(long Offset, byte[] Bytes)> TableWrites { get; init; }

    public IReadOnlyList<PartitionPlacement> Partitions { get; init; } = [];
}
