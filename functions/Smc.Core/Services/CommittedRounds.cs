using System.Collections.Concurrent;
using System.Security.Cryptography;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Disks;
using Smc.Transfer;
using Smc.Wire.Inventory;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// A committed round, loaded for assembly: its manifest read with a bound from what the source reported and checked
/// against the hash recorded at commit (read a chunk at a time into a <see cref="ChunkIndex"/> on local disk), the data key unwrapped with the job's private key and the fingerprint key,
/// each disk's chunk order and destination layout (the chunks that hold the partition table decoded and checked), and
/// for an incremental round its base image, every unchanged chunk matched against the base's fingerprints. A refusal is
/// a <see cref="StagingRefusedException"/> with a <c>StagingIntegrity.*</c> or layout code. Loaded once per process
/// while the round is assembled (its slices run as separate activities): the cache is this service's own.
/// </summary>
public sealed class CommittedRounds(IRecordStore<SourceServer> sources, IStagingStore staging, IImageStore imageStore, JobKeys keys)
{
    /// <summary>Manifest bytes a chunk can take (its JSON entry is ~200 bytes) and the most any manifest may have.</summary>
    private const long MaxManifestBytesPerChunk = 512, MaxManifestBytes = 2L << 30;
    private const int GptTailBytes = 33 * 512;

    /// <summary>Rounds kept loaded; beyond it the cache starts over (a host assembles a few rounds at a time).</summary>
    private const int MaxCached = 16;

    private readonly ConcurrentDictionary<string, Lazy<Task<RoundContext>>> _cache = new();

    /// <summary>Drops what is cached for a job (its staging is gone).</summary>
    internal void Forget(string jobId) =>
        _cache.Keys.Where(k => k.StartsWith(jobId + "/", StringComparison.Ordinal)).ToList().ForEach(k => _cache.TryRemove(k, out _));

    /// <summary>The round loaded and checked (once per process while it is being assembled); a refusal is a <see cref="StagingRefusedException"/>.</summary>
    internal Task<RoundContext> LoadAsync(ReplicationJob job, int round, string manifestSha256, CancellationToken cancellationToken) =>
        GetAsync(job.JobId, round, manifestSha256, async () =>
        {
            // What the source reported bounds the manifest: its disks, cut into the smallest chunks, at most MaxManifestBytesPerChunk each.
            SourceServer? source = (await sources.GetAsync(job.SourceId))?.Value;
            List<DiskInfo> inventory = source?.Disks ?? [];
            bool container = job.TargetType == TargetType.ContainerImage;
            long inventoryBytes = inventory.Sum(d => Math.Max(0, d.SizeBytes));
            long maxManifest = Math.Min(MaxManifestBytes, (1L << 20) + (MaxManifestBytesPerChunk * (((container ? Math.Max(inventoryBytes, 1L << 40) : inventoryBytes) / ChunkGrid.Min) + 16)));

            // The chunks go to a local file as they are read and come back in (disk, offset) order: the round's size
            // costs the host disk space, not memory (issue 20).
            using var sorter = new RecordSorter<ChunkRecord>(ChunkRecord.Compare);
            RoundManifest manifest = await ReadManifestAsync(job.JobId, round, manifestSha256, maxManifest, sorter, cancellationToken);
            if (manifest.JobId != job.JobId || manifest.Round != round)
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, $"The manifest is for {manifest.JobId} round {manifest.Round}, not {job.JobId} round {round}.");
            }

            if (manifest.ChunkSize is < ChunkGrid.Min or > ChunkGrid.Max || (manifest.ChunkSize & (manifest.ChunkSize - 1)) != 0)
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, $"chunkSize {manifest.ChunkSize} is not a power of two from {ChunkGrid.Min} to {ChunkGrid.Max}.");
            }

            // Every disk is one the source reported, in the order the command listed them, no bigger than reported (an
            // exabyte disk of a lying manifest would otherwise be exported to the operator's OSS).
            if (!container)
            {
                List<DiskInfo> expected = [inventory.FirstOrDefault()!, .. job.DataDisks.OrderBy(d => d.Index).Select(d => d.Index < inventory.Count ? inventory[d.Index] : null!)];
                foreach (ManifestDisk disk in manifest.Disks)
                {
                    if (disk.Index < 0 || disk.Index >= expected.Count || expected[disk.Index] is not { } reported || disk.SizeBytes <= 0 || disk.SizeBytes > reported.SizeBytes)
                    {
                        throw new StagingRefusedException(ErrorCodes.StagingDiskUnknown,
                            $"The manifest lists disk {disk.Index} of {disk.SizeBytes} bytes, which the source never reported (it reported {inventory.Count} disk(s); the job copies {expected.Count}).");
                    }
                }
            }

            if (manifest.Disks.Select(d => d.Index).Distinct().Count() != manifest.Disks.Count)
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, "The manifest lists a disk twice.");
            }

            bool incremental = manifest.FormatVersion >= 2 && manifest.BaseRound is not null;
            var index = new ChunkIndex();
            try
            {
                await IndexChunksAsync(job.JobId, round, manifest, incremental, sorter.Sorted(), index, cancellationToken);
                string? baseImageId = incremental ? await LoadBaseAsync(job, manifest, index, cancellationToken) : null;

                byte[] dataKey;
                byte[] fingerprintKey = await keys.EnsureFingerprintKeyAsync(job.JobId);
                using (var rsa = await keys.OpenPrivateKeyAsync(job.JobId))
                {
                    try
                    {
                        dataKey = DataKeys.Unwrap(manifest.WrappedDataKey, rsa);
                    }
                    catch (ChunkIntegrityException)
                    {
                        throw new StagingRefusedException(ErrorCodes.StagingKeyUnwrapFailed, "The round's data key was not wrapped with this job's key.");
                    }
                }

                var chunkKeys = new ChunkKeys(dataKey, fingerprintKey);
                var mappings = new Dictionary<int, DiskMapping>();
                foreach (ManifestDisk disk in manifest.Disks)
                {
                    mappings[disk.Index] = await PlanDiskAsync(job, round, index, disk, chunkKeys, cancellationToken);
                }

                return new RoundContext
                {
                    Head = manifest,
                    Keys = chunkKeys,
                    Index = index,
                    Mappings = mappings,
                    BaseImageId = baseImageId,
                };
            }
            catch
            {
                index.Dispose();
                throw;
            }
        });

    /// <summary>
    /// Reads the manifest a chunk at a time into <paramref name="sorter"/>, hashing every byte: a manifest that is not
    /// what was committed is refused as changed whatever else is wrong with it (the rest of it is read to be sure).
    /// </summary>
    private async Task<RoundManifest> ReadManifestAsync(string jobId, int round, string manifestSha256, long maxManifest, RecordSorter<ChunkRecord> sorter, CancellationToken cancellationToken)
    {
        try
        {
            await using Stream blob = await staging.OpenReadAsync(jobId, StagingNames.Manifest(round), maxManifest, cancellationToken)
                ?? throw new StagingRefusedException(ErrorCodes.StagingManifestMissing, $"Round {round} has no manifest in staging; start the job again to upload it.");
            using var sha = SHA256.Create();
            RoundManifest? manifest = null;
            Exception? refusal = null;
            await using (var hashing = new CryptoStream(blob, sha, CryptoStreamMode.Read, leaveOpen: true))
            {
                try
                {
                    manifest = await StagingJson.ReadChunkedAsync<RoundManifest, ManifestChunk>(hashing, c => sorter.Add(Record(c)), cancellationToken);
                }
                catch (Exception e) when (e is InvalidDataException or StagingRefusedException)
                {
                    refusal = e;
                    await hashing.CopyToAsync(Stream.Null, cancellationToken);
                }
            }

            if (Convert.ToHexStringLower(sha.Hash!) != manifestSha256)
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestChanged, $"The manifest of round {round} changed after it was committed; nothing was made from it. Start the job again to upload the round anew.");
            }

            return refusal switch
            {
                null => manifest!,
                StagingRefusedException refused => throw refused,
                _ => throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, refusal.Message),
            };
        }
        catch (StagingBlobTooLargeException)
        {
            throw new StagingRefusedException(ErrorCodes.StagingManifestTooLarge, $"The manifest of round {round} is longer than the {maxManifest} bytes the source's disks can need; nothing was read from it or made from the round.");
        }
    }

    private static ChunkRecord Record(ManifestChunk c) =>
        ChunkRecord.TryFrom(c, out ChunkRecord record) ? record
        : c.Pack is not null && PackIds.Parse(c.Pack) is null ? throw new StagingRefusedException(ErrorCodes.StagingChunkOutOfBounds, $"Chunk at disk {c.Disk} offset {c.Offset} lies at {c.Position}+{c.StoredLength} in pack {c.Pack}, which is not in staging.")
        : throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, $"Chunk at disk {c.Disk} offset {c.Offset} has no fingerprint of {ChunkFingerprint.Length * 2} lowercase hex digits.");

    /// <summary>
    /// Checks the chunks in (disk, offset) order and adds them to <paramref name="index"/>: every stored chunk lies inside
    /// its pack, no longer than a frame of its length can be; chunks don't overlap or leave their disk; a complete round
    /// sends every chunk, and every round sends the chunks that hold partition tables.
    /// </summary>
    private async Task IndexChunksAsync(string jobId, int round, RoundManifest manifest, bool incremental, IEnumerable<ChunkRecord> sorted, ChunkIndex index, CancellationToken cancellationToken)
    {
        Dictionary<int, long> diskSizes = manifest.Disks.ToDictionary(d => d.Index, d => d.SizeBytes);
        var packLengths = new Dictionary<ulong, long>();
        int disk = int.MinValue;
        long end = 0;
        foreach (ChunkRecord c in sorted)
        {
            if (!diskSizes.TryGetValue(c.Disk, out long diskSize))
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, "A chunk names a disk the manifest does not list.");
            }

            (disk, end) = c.Disk == disk ? (disk, end) : (c.Disk, 0);
            if (!c.Sent && !incremental)
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, "A complete round lists a chunk without a pack.");
            }

            if (c.Sent)
            {
                if (c.Length <= 0 || c.Length > manifest.ChunkSize || c.StoredLength < ChunkCodec.HeaderSize || c.StoredLength > ChunkCodec.HeaderSize + c.Length || c.Position < 0)
                {
                    throw new StagingRefusedException(ErrorCodes.StagingChunkOutOfBounds,
                        $"Chunk at disk {c.Disk} offset {c.Offset}: stored length {c.StoredLength} at position {c.Position} is impossible for a {c.Length}-byte chunk.");
                }

                if (!packLengths.TryGetValue(c.Pack, out long packLength))
                {
                    packLength = packLengths[c.Pack] = await staging.LengthAsync(jobId, StagingNames.Pack(round, c.PackId), cancellationToken) ?? -1;
                }

                if (packLength < 0 || c.Position > packLength - c.StoredLength)
                {
                    throw new StagingRefusedException(ErrorCodes.StagingChunkOutOfBounds,
                        $"Chunk at disk {c.Disk} offset {c.Offset} lies at {c.Position}+{c.StoredLength} in pack {c.PackId}, which {(packLength < 0 ? "is not in staging" : $"holds {packLength} bytes")}.");
                }
            }

            if (c.Offset < end || c.Length <= 0 || c.Length > manifest.ChunkSize || c.Offset + c.Length > diskSize || c.Offset % 512 != 0 || c.Length % 512 != 0)
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, $"Chunk at disk {c.Disk} offset {c.Offset} (length {c.Length}) overlaps another or lies outside the disk.");
            }

            end = c.Offset + c.Length;
            if (!c.Sent && (c.Offset == 0 || c.Offset + c.Length == diskSize))
            {
                throw new StagingRefusedException(ErrorCodes.StagingManifestInvalid, $"Chunk at disk {c.Disk} offset {c.Offset} holds partition tables and must be sent every round.");
            }

            index.Add(c);
        }

        index.Seal();
    }

    /// <summary>
    /// The base of an incremental round: the kept image of its base round and that round's fingerprints; every chunk the
    /// agent left out as unchanged must match them. Both sides are read in (disk, offset) order and merged, so neither is held.
    /// </summary>
    private async Task<string> LoadBaseAsync(ReplicationJob job, RoundManifest manifest, ChunkIndex index, CancellationToken cancellationToken)
    {
        ReplicationJobRun? baseRun = job.ReplicationJobRuns.FirstOrDefault(r => r.Round == manifest.BaseRound && r.ImageId is not null && r.EndTime is not null);
        Stream? document = baseRun is null ? null : await imageStore.OpenDocumentAsync(baseRun.ImageId!, ImageDocuments.Fingerprints, cancellationToken);
        if (baseRun is null || document is null)
        {
            throw new StagingRefusedException(ErrorCodes.StagingBaseMissing,
                $"Round {manifest.Round} was compared with round {manifest.BaseRound}, whose image is no longer kept. Start the job again: the round is sent again against the newest kept image.");
        }

        using var known = new RecordSorter<ChunkRecord>(ChunkRecord.Compare);
        await using (document)
        {
            // An entry whose fingerprint is malformed matches nothing.
            await StagingJson.ReadChunkedAsync<RoundFingerprints, FingerprintEntry>(document, e =>
            {
                if (ChunkRecord.TryFrom(e, out ChunkRecord r))
                {
                    known.Add(r);
                }
            }, cancellationToken);
        }

        using IEnumerator<ChunkRecord> baseChunks = known.Sorted().GetEnumerator();
        bool more = baseChunks.MoveNext();
        foreach (ChunkRecord c in index.All().Where(c => !c.Sent))
        {
            while (more && ChunkRecord.Compare(baseChunks.Current, c) < 0)
            {
                more = baseChunks.MoveNext();
            }

            if (!more || ChunkRecord.Compare(baseChunks.Current, c) != 0 || !ChunkRecord.SameContent(baseChunks.Current, c))
            {
                throw new StagingRefusedException(ErrorCodes.StagingBaseMismatch,
                    $"Chunk at disk {c.Disk} offset {c.Offset} is listed as unchanged since round {manifest.BaseRound} but round {manifest.BaseRound} had other content there. Nothing was made from it; start the job again.");
            }
        }

        return baseRun.ImageId!;
    }

    private async Task<DiskMapping> PlanDiskAsync(ReplicationJob job, int round, ChunkIndex index, ManifestDisk disk, ChunkKeys chunkKeys, CancellationToken cancellationToken)
    {
        long wanted = disk.Index == 0
            ? (job.SystemDiskSize is { } gib ? gib * (1L << 30) : disk.SizeBytes)
            : (job.DataDisks.FirstOrDefault(d => d.Index == disk.Index)?.Size is { } dgib ? dgib * (1L << 30) : disk.SizeBytes);
        List<DiskPartSpec> specs = disk.Index == 0 ? job.SystemDiskParts : job.DataDisks.FirstOrDefault(d => d.Index == disk.Index)?.Parts ?? [];
        var sizes = new Dictionary<int, long>();
        foreach (DiskPartSpec spec in specs)
        {
            var part = disk.Source.Parts.FirstOrDefault(p => p.Device == spec.Device)
                ?? throw new StagingRefusedException(ErrorCodes.InvalidSystemDiskParts, $"No partition '{spec.Device}' on source disk {disk.Index}; use the devices GET /api/v1/source-servers/{job.SourceId} lists.");
            sizes[part.Number] = spec.SizeBytes;
        }

        if (disk.Source.PartitionTable == "none")
        {
            if (wanted < disk.SizeBytes)
            {
                throw new StagingRefusedException(ErrorCodes.LayoutDiskTooSmall, $"Destination disk {disk.Index} must be at least {disk.SizeBytes} bytes.");
            }

            return new DiskMapping { DestinationSize = RoundUp(wanted), PartitionTable = "none", Map = (o, _) => o, TableWrites = [] };
        }

        byte[] head = await DecodeRangeAsync(job.JobId, round, index, disk.Index, 0, (int)Math.Min(ChunkGrid.Max, disk.SizeBytes), chunkKeys, cancellationToken);
        byte[] tail = await DecodeRangeAsync(job.JobId, round, index, disk.Index, disk.SizeBytes - GptTailBytes, GptTailBytes, chunkKeys, cancellationToken);
        LayoutPlan plan;
        try
        {
            plan = DestinationLayout.Plan(head, tail, disk.SizeBytes, RoundUp(wanted), sizes);
        }
        catch (DiskFormatException e)
        {
            throw new StagingRefusedException(e.Code, $"Destination disk {disk.Index}: {e.Message}");
        }

        return new DiskMapping
        {
            DestinationSize = plan.DestinationDiskSize,
            PartitionTable = disk.Source.PartitionTable,
            Map = plan.MapRange,
            TableWrites = plan.TableWrites,
            Partitions = plan.Partitions,
        };
    }

    /// <summary>Decodes the source bytes [offset, offset+length) of a disk from its chunks (absent chunks are zero).</summary>
    private async Task<byte[]> DecodeRangeAsync(string jobId, int round, ChunkIndex index, int disk, long offset, int length, ChunkKeys chunkKeys, CancellationToken cancellationToken)
    {
        byte[] result = new byte[length];
        byte[] plain = new byte[ChunkGrid.Max];
        foreach (ChunkRecord c in index.SentOverlapping(disk, offset, length).ToList())
        {
            byte[] frame = new byte[c.StoredLength];
            await staging.ReadRangeAsync(jobId, StagingNames.Pack(round, c.PackId), c.Position, frame, cancellationToken);
            OpenChunk(frame, jobId, round, c, chunkKeys, plain);

            long from = Math.Max(offset, c.Offset), to = Math.Min(offset + length, c.Offset + c.Length);
            plain.AsSpan((int)(from - c.Offset), (int)(to - from)).CopyTo(result.AsSpan((int)(from - offset)));
        }

        return result;
    }

    /// <summary>
    /// Opens one staged chunk and checks it against the manifest (GCM tag, address, length, keyed BLAKE3 fingerprint); any failure is
    /// a <see cref="StagingRefusedException"/> whose code and message name the chunk.
    /// </summary>
    internal static int OpenChunk(ReadOnlySpan<byte> frame, string jobId, int round, in ChunkRecord chunk, ChunkKeys chunkKeys, Span<byte> plain)
    {
        try
        {
            int length = ChunkCodec.Open(frame, new ChunkAddress(jobId, round, chunk.Disk, chunk.Offset, chunk.Length), chunkKeys.DataKey, plain);
            Span<byte> fingerprint = stackalloc byte[ChunkFingerprint.Length];
            ChunkFingerprint.Compute(chunkKeys.FingerprintKey, plain[..length], fingerprint);
            if (length != chunk.Length || !chunk.HasFingerprint(fingerprint))
            {
                throw new ChunkIntegrityException("ChunkHash", "The chunk's content does not match its fingerprint in the manifest.");
            }

            return length;
        }
        catch (ChunkIntegrityException e)
        {
            throw new StagingRefusedException(ErrorCodes.StagingIntegrityPrefix + e.Code,
                $"Chunk at disk {chunk.Disk} offset {chunk.Offset} (pack {chunk.PackId} @ {chunk.Position}) failed its check: {e.Message} Staging was altered; nothing was made from it. Start the job again to upload the round anew.");
        }
    }

    private static long RoundUp(long bytes) => (bytes + (1L << 20) - 1) / (1L << 20) * (1L << 20);

    private async Task<RoundContext> GetAsync(string jobId, int round, string manifestSha256, Func<Task<RoundContext>> load)
    {
        if (_cache.Count > MaxCached)
        {
            _cache.Clear();
        }

        string key = $"{jobId}/{round}/{manifestSha256}";
        Lazy<Task<RoundContext>> entry = _cache.GetOrAdd(key, _ => new Lazy<Task<RoundContext>>(load));
        try
        {
            return await entry.Value;
        }
        catch
        {
            // A failed load (storage hiccup, refused staging) is not kept: the activity's retry loads afresh.
            _cache.TryRemove(new KeyValuePair<string, Lazy<Task<RoundContext>>>(key, entry));
            throw;
        }
    }
}
