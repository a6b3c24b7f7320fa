using Smc.Disks;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// What assembling one committed round needs (<see cref="CommittedRounds"/> loads it once per process): the manifest's
/// head (checked, with its chunks, against the recorded hash), its chunks in a <see cref="ChunkIndex"/> on local disk,
/// the unwrapped data key and the fingerprint key, and each disk's destination layout. The index's files go back when
/// the context is collected (a context may still be in use by a slice when the cache lets go of it).
/// </summary>
internal sealed class RoundContext
{
    /// <summary>The manifest without its chunks (<see cref="RoundManifest.Chunks"/> is empty: they are in <see cref="Index"/>).</summary>
    public required RoundManifest Head { get; init; }

    public required ChunkKeys Keys { get; init; }

    /// <summary>Every chunk of the round, checked, by disk and offset; those sent apart.</summary>
    public required ChunkIndex Index { get; init; }

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
