using System.Collections.Concurrent;
using Smc.Disks;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// What assembling one committed round needs, loaded once per process: the manifest (checked against its
/// recorded hash), the unwrapped data key and the fingerprint key, and each disk's chunk order and destination layout.
/// </summary>
internal sealed class RoundContext
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<RoundContext>>> Cache = new();

    public required RoundManifest Manifest { get; init; }

    public required ChunkKeys Keys { get; init; }

    /// <summary>Per manifest disk index: indices of the chunks sent (with a pack), sorted by source offset.</summary>
    public required Dictionary<int, int[]> ChunksByDisk { get; init; }

    public required Dictionary<int, DiskMapping> Mappings { get; init; }

    /// <summary>For an incremental round: the image whose chunk references its unchanged chunks take.</summary>
    public string? BaseImageId { get; init; }

    public static async Task<RoundContext> GetAsync(string jobId, int round, string manifestSha256, Func<Task<RoundContext>> load)
    {
        if (Cache.Count > 16)
        {
            Cache.Clear();
        }

        string key = $"{jobId}/{round}/{manifestSha256}";
        Lazy<Task<RoundContext>> entry = Cache.GetOrAdd(key, _ => new Lazy<Task<RoundContext>>(load));
        try
        {
            return await entry.Value;
        }
        catch
        {
            // A failed load (storage hiccup, refused staging) is not kept: the activity's retry loads afresh.
            Cache.TryRemove(new KeyValuePair<string, Lazy<Task<RoundContext>>>(key, entry));
            throw;
        }
    }

    public static void Forget(string jobId) =>
        Cache.Keys.Where(k => k.StartsWith(jobId + "/", StringComparison.Ordinal)).ToList().ForEach(k => Cache.TryRemove(k, out _));
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
