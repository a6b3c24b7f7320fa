using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Smc.Core.Diagnostics;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Images;
using Smc.Core.Options;
using Smc.Core.Orchestration;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Disks;
using Smc.Transfer;
using Smc.Wire.Agent;
using Smc.Wire.Inventory;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// The work behind a round's activities: issue it to the agent, wait-checks, verify what was committed (loaded and
/// checked by <see cref="CommittedRounds"/>), assemble destination disks slice by slice, finalize the image, clean
/// staging. Every step is idempotent.
/// </summary>
public sealed class RoundSteps(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    IRecordStore<LocalImage> images,
    IStagingStore staging,
    IImageStore imageStore,
    ImageService imageService,
    JobKeys keys,
    MasterKey master,
    CommandSignals signals,
    RunArchive runArchive,
    CommittedRounds rounds,
    IOptions<ControlPlaneOptions> options,
    TimeProvider clock,
    ILogger<RoundSteps> logger)
{
    /// <summary>The chunk grid the control plane asks agents for (docs/adr/0004-chunk-size.md).</summary>
    public const int ChunkSize = 1 << 20;

    /// <summary>Grids a manifest may use: powers of two from 64 KiB to 1 MiB.</summary>
    public const int MinChunkSize = 64 << 10, MaxChunkSize = 1 << 20;
    private const long SliceBytes = 64L << 20;
    private const int MaxReadBytes = 4 << 20;


    /// <summary>Beside each image: the fingerprints of its round (<see cref="RoundFingerprints"/>), the next round's base.</summary>
    internal const string FingerprintsDocument = "fingerprints.json";

    /// <summary>
    /// Beside each image of a ContainerImage job with a registry: the tree listing (Smc.Files TreeListing) of the image
    /// its layers make, which the next round's capture compares with.
    /// </summary>
    internal const string ListingDocument = "listing.json";

    public async Task<PrepareRoundResult> PrepareRoundAsync(PrepareRoundInput input)
    {
        Log(TaskNames.PrepareRoundActivity, input.JobId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId))?.Value;
        if (job is null || job.Status != JobStatus.Running)
        {
            return new PrepareRoundResult(false, ErrorCodes.RoundJobNotRunning, "The job is no longer running.");
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId))?.Value;
        bool container = job.TargetType == TargetType.ContainerImage;
        if (source is null || (source.Disks.Count == 0 && !container))
        {
            return new PrepareRoundResult(false, ErrorCodes.RoundSourceNoDisks, $"Source server '{job.SourceId}' reported no disks. Check 'smc-agent inspect' on it and register again with --disk.");
        }

        // A container round reads the root file system file by file (one tar stream), not its disks.
        var disks = container ? [TreeDevice.Root] : new List<string> { source.Disks[0].Device };
        foreach (DataDiskSpec d in container ? Enumerable.Empty<DataDiskSpec>() : job.DataDisks.OrderBy(d => d.Index))
        {
            if (d.Index >= source.Disks.Count)
            {
                return new PrepareRoundResult(false, ErrorCodes.InvalidDataDisks, $"dataDisks index {d.Index} does not exist: the source has {source.Disks.Count} disk(s) (index 1 is its second disk).");
            }

            disks.Add(source.Disks[d.Index].Device);
        }

        // The round: an unfinished one again (stopped, failed, or interrupted), else the next. Its base: the newest round
        // that became an image still kept, so the agent sends only what changed since.
        ReplicationJobRun? open = job.ReplicationJobRuns.Where(r => r.EndTime is null).MaxBy(r => r.Round);
        int round = open?.Round ?? (job.ReplicationJobRuns.Count == 0 ? 0 : job.ReplicationJobRuns.Max(r => r.Round) + 1);
        // A container job with a registry: each round is a layer on top of the newest pushed round's image, holding what
        // changed since its listing (kept beside its image). Its tar is new content, so no block base. Without a listing
        // to compare with (the base's image is gone), the layer holds the whole tree and the image starts anew from it.
        int? baseRound = null, layerBase = null;
        if (!container || string.IsNullOrEmpty(job.ContainerRegistry))
        {
            ReplicationJobRun? lastDone = job.ReplicationJobRuns.Where(r => r.EndTime is not null && r.ImageId is not null && r.Round < round).MaxBy(r => r.Round);
            baseRound = lastDone is not null && await images.GetAsync(lastDone.ImageId!) is not null
                && await imageStore.GetDocumentAsync(lastDone.ImageId!, FingerprintsDocument) is not null
                && await imageStore.GetDocumentAsync(lastDone.ImageId!, ImageDiskMap.DocumentName(0)) is not null ? lastDone.Round : null;
        }
        else
        {
            ReplicationJobRun? pushed = job.ReplicationJobRuns.Where(r => r.EndTime is not null && r.Container is { BaseLost: false } && r.ImageId is not null && r.Round < round).MaxBy(r => r.Round);
            layerBase = open is not null ? open.LayerBase
                : pushed is not null && await imageStore.GetDocumentAsync(pushed.ImageId!, ListingDocument) is not null ? pushed.Round : null;
        }

        string publicKey = await keys.EnsurePublicKeyAsync(job.JobId);
        await staging.EnsureAsync(job.JobId);
        var command = new AgentCommand
        {
            CommandId = $"{job.JobId}-r{round}",
            Type = AgentCommandTypes.Replicate,
            JobId = job.JobId,
            Round = round,
            BaseRound = baseRound,
            PublicKey = publicKey,
            ChunkSize = ChunkSize,
            Threads = job.ReplicationParameters.Threads ?? 0,
            BandwidthLimitKBps = job.ReplicationParameters.BandwidthLimitKBps,
            CompressLevel = job.ReplicationParameters.CompressLevel,
            FreezeWindowSeconds = job.ReplicationParameters.FreezeWindowSeconds,
            PreFreezeCommand = job.ReplicationParameters.PreFreezeCommand,
            PostThawCommand = job.ReplicationParameters.PostThawCommand,
            HookTimeoutSeconds = job.ReplicationParameters.HookTimeoutSeconds,
            ContinueOnHookFailure = job.ReplicationParameters.ContinueOnHookFailure,
            Disks = disks,
            LayerBase = layerBase,
            ExcludePaths = container ? job.ExcludePaths : [],
            IncludePaths = container ? job.IncludePaths : [],
        };
        DateTimeOffset now = clock.GetUtcNow();
        // Runs the new one pushes out of the record go to the archive first: a crash after the update loses none.
        await runArchive.KeepAsync(job.JobId, job.RunsOverBound(reserve: 1));
        List<ReplicationJobRun> leaving = [];
        await jobs.UpdateAsync(job.JobId, j =>
        {
            j.BusinessStatus = BusinessStatus.Syncing;
            if (j.CurrentRound != round)
            {
                // A new round: the previous round's counters no longer describe anything (a resumed round keeps its own).
                j.Disks = [];
                j.Throughput = 0;
            }

            j.CurrentRound = round;
            j.StatusInfo = new StatusInfo();
            j.Progress = 0;
            j.EtaSeconds = null;
            if (j.ReplicationJobRuns.FirstOrDefault(r => r.Round == round) is { } existing)
            {
                existing.Final |= input.Final;
            }
            else
            {
                j.ReplicationJobRuns.Add(new ReplicationJobRun { Round = round, Type = input.Type, StartTime = now, Final = input.Final, LayerBase = layerBase });
                leaving = j.BoundRunHistory();
            }

            j.UpdatedAt = now;
            return true;
        });
        await runArchive.KeepAsync(job.JobId, leaving);

        // The command goes out only once the job says Syncing: an agent that takes it at once (a long poll is woken
        // here) asks for staging credentials next, and those are refused to a job still Preparing (seen in CI: the
        // round's command failed and came back 30 s later). A crash before this line re-runs the activity, which
        // publishes it then.
        await sources.UpdateAsync(job.SourceId, s =>
        {
            s.PendingCommands.RemoveAll(c => c.CommandId == command.CommandId || c.JobId == job.JobId);
            s.PendingCommands.Add(command);
            return true;
        });
        signals.Notify(job.SourceId);
        return new PrepareRoundResult(true, null, null, round);
    }

    public async Task<CheckSyncResult> CheckSyncAsync(CheckSyncInput input)
    {
        ReplicationJob? job = (await jobs.GetAsync(input.JobId))?.Value;
        if (job is not { Status: JobStatus.Running, BusinessStatus: BusinessStatus.Syncing })
        {
            return new CheckSyncResult(SyncOutcome.JobGone, null, null);
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId))?.Value;
        TimeSpan lostAfter = TimeSpan.FromSeconds(options.Value.SyncLostAfterSeconds);
        if (source is null)
        {
            return new CheckSyncResult(SyncOutcome.Lost, ErrorCodes.RoundSourceGone, $"Source server '{job.SourceId}' was deleted during the copy.");
        }

        if (source.State == SourceState.Unavailable && source.LastHeartbeat < clock.GetUtcNow() - lostAfter)
        {
            return new CheckSyncResult(SyncOutcome.Lost, ErrorCodes.HeartbeatLost,
                $"The agent on '{job.SourceId}' has been silent since {source.LastHeartbeat:u}. Restart it (systemctl restart smc-agent), then start the job again: uploaded data is kept and not sent twice.");
        }

        return new CheckSyncResult(SyncOutcome.Continue, null, null);
    }

    public async Task<AssemblyPlan> VerifyRoundAsync(VerifyRoundInput input)
    {
        Log(TaskNames.VerifyRoundActivity, input.JobId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId))?.Value;
        if (job is null || job.Status != JobStatus.Running)
        {
            return new AssemblyPlan(null, [], ErrorCodes.RoundJobNotRunning, "The job is no longer running.");
        }

        RoundContext context;
        try
        {
            context = await rounds.LoadAsync(job, input.Round, input.ManifestSha256);
        }
        catch (StagingRefusedException e)
        {
            return new AssemblyPlan(null, [], e.Code, e.Message);
        }

        string imageId = Ids.New(Ids.ImagePrefix);
        Stored<ReplicationJob> updated = (await jobs.UpdateAsync(job.JobId, j =>
        {
            ReplicationJobRun run = j.ReplicationJobRuns.First(r => r.Round == input.Round);
            run.ImageId ??= imageId;
            imageId = run.ImageId;
            j.BusinessStatus = BusinessStatus.Processing;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }))!;

        var slices = new List<SliceInput>();
        foreach ((int disk, int[] order) in context.ChunksByDisk)
        {
            int first = 0;
            long bytes = 0;
            for (int i = 0; i < order.Length; i++)
            {
                bytes += context.Manifest.Chunks[order[i]].Length;
                if (bytes >= SliceBytes || i == order.Length - 1)
                {
                    slices.Add(new SliceInput(job.JobId, input.Round, input.ManifestSha256, imageId, disk, first, i - first + 1));
                    first = i + 1;
                    bytes = 0;
                }
            }
        }

        return new AssemblyPlan(imageId, slices, null, null);
    }

    /// <summary>
    /// One slice of a round: its packs are copied out of staging into the image store (server-side), and every chunk of
    /// the slice is read back from the kept copy and checked (GCM tag, address, length, fingerprint). Nothing is written
    /// but the copies: the image reads the kept packs, so what it serves is exactly what was checked here.
    /// </summary>
    public async Task<SliceResult> AssembleSliceAsync(SliceInput input)
    {
        Log(TaskNames.AssembleSliceActivity, input.JobId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        RoundContext context;
        try
        {
            context = await rounds.LoadAsync(job, input.Round, input.ManifestSha256);
        }
        catch (StagingRefusedException e)
        {
            return new SliceResult(0, e.Code, e.Message);
        }

        int[] order = context.ChunksByDisk[input.Disk][input.FirstChunk..(input.FirstChunk + input.ChunkCount)];
        foreach (string pack in order.Select(i => context.Manifest.Chunks[i].Pack!).Distinct(StringComparer.Ordinal))
        {
            try
            {
                await imageStore.KeepPackAsync(input.JobId, input.Round, pack);
            }
            catch (InvalidDataException e)
            {
                return new SliceResult(0, ErrorCodes.StagingPackMissing, $"{e.Message} The manifest names it; nothing was made from the round. Start the job again to upload it anew.");
            }

            await TestHolds.InsideAssemblyAsync(CancellationToken.None);
        }

        byte[] plain = ArrayPool<byte>.Shared.Rent(MaxChunkSize);
        byte[] packBuffer = ArrayPool<byte>.Shared.Rent(MaxReadBytes + MaxChunkSize);
        long verified = 0;
        try
        {
            int i = 0;
            while (i < order.Length)
            {
                // Read a run of chunks stored back to back in one pack with one ranged read.
                ManifestChunk head = context.Manifest.Chunks[order[i]];
                int runEnd = i + 1;
                long runBytes = head.StoredLength;
                while (runEnd < order.Length)
                {
                    ManifestChunk next = context.Manifest.Chunks[order[runEnd]];
                    ManifestChunk prev = context.Manifest.Chunks[order[runEnd - 1]];
                    if (next.Pack != head.Pack || next.Position != prev.Position + prev.StoredLength || runBytes + next.StoredLength > MaxReadBytes)
                    {
                        break;
                    }

                    runBytes += next.StoredLength;
                    runEnd++;
                }

                try
                {
                    await imageStore.ReadPackAsync(input.JobId, input.Round, head.Pack!, head.Position, packBuffer.AsMemory(0, (int)runBytes));
                }
                catch (EndOfStreamException)
                {
                    return new SliceResult(verified, ErrorCodes.StagingPackTruncated,
                        $"Pack {head.Pack} of round {input.Round} is shorter than the manifest says (chunk at disk {head.Disk} offset {head.Offset}). Nothing was made from the round; start the job again.");
                }

                long cursor = 0;
                for (int k = i; k < runEnd; k++)
                {
                    ManifestChunk chunk = context.Manifest.Chunks[order[k]];
                    try
                    {
                        verified += CommittedRounds.OpenChunk(packBuffer.AsSpan((int)cursor, chunk.StoredLength), input.JobId, input.Round, chunk, context.Keys, plain);
                    }
                    catch (StagingRefusedException e)
                    {
                        return new SliceResult(verified, e.Code, e.Message);
                    }

                    cursor += chunk.StoredLength;
                }

                i = runEnd;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain, clearArray: true);
            ArrayPool<byte>.Shared.Return(packBuffer);
        }

        return new SliceResult(verified, null, null);
    }

    public async Task<bool> FinalizeImageAsync(FinalizeImageInput input)
    {
        Log(TaskNames.FinalizeImageActivity, input.JobId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        RoundContext context = await rounds.LoadAsync(job, input.Round, input.ManifestSha256);
        SourceServer? source = (await sources.GetAsync(job.SourceId))?.Value;
        var disks = new List<ImageDisk>();
        foreach ((int disk, DiskMapping mapping) in context.Mappings.OrderBy(kv => kv.Key))
        {
            ImageDiskMap map = await BuildMapAsync(job.JobId, input.Round, context, disk, mapping);
            await imageStore.PutDocumentAsync(input.ImageId, ImageDiskMap.DocumentName(disk), map.Serialize());

            ManifestDisk md = context.Manifest.Disks.First(d => d.Index == disk);
            disks.Add(new ImageDisk
            {
                Index = disk,
                SizeBytes = mapping.DestinationSize,
                PartitionTable = mapping.PartitionTable,
                Parts = md.Source.Parts.Select(p =>
                {
                    PartitionPlacement? placed = mapping.Partitions.FirstOrDefault(x => x.Number == p.Number);
                    return new Smc.Wire.Inventory.PartitionInfo
                    {
                        Number = p.Number,
                        Device = p.Device,
                        Path = p.Path,
                        FileSystem = p.FileSystem,
                        StartBytes = placed?.DestinationStart ?? p.StartBytes,
                        SizeBytes = placed?.DestinationSize ?? p.SizeBytes,
                        UsedBytes = p.UsedBytes,
                        CanBlock = p.CanBlock,
                        TypeId = p.TypeId,
                        PartitionGuid = p.PartitionGuid,
                        Label = p.Label,
                        FileSystemId = p.FileSystemId,
                        Bootable = p.Bootable,
                    };
                }).ToList(),
                WrittenBytes = context.Manifest.Chunks.Where(c => c.Disk == disk).Sum(c => (long)c.Length),
            });
        }

        var image = new LocalImage
        {
            ImageId = input.ImageId,
            JobId = job.JobId,
            SourceId = job.SourceId,
            ImageName = job.ImageName ?? job.Name,
            Round = input.Round,
            Status = "Available",
            Platform = source?.Platform,
            Architecture = source?.Architecture,
            Disks = disks,
            CreatedAt = clock.GetUtcNow(),
        };
        Stored<LocalImage>? existing = await images.GetAsync(input.ImageId);
        if (existing is null)
        {
            await images.InsertAsync(input.ImageId, image);
        }
        else
        {
            await images.ReplaceAsync(input.ImageId, image, existing.ETag);
        }

        // The next round's base: this round's fingerprints, beside its image.
        var fingerprints = new RoundFingerprints
        {
            JobId = job.JobId,
            Round = input.Round,
            ChunkSize = context.Manifest.ChunkSize,
            DiskSizes = [.. context.Manifest.Disks.OrderBy(d => d.Index).Select(d => d.SizeBytes)],
            Chunks = [.. context.Manifest.Chunks.Select(c => new FingerprintEntry { Disk = c.Disk, Offset = c.Offset, Length = c.Length, Fingerprint = c.Fingerprint })],
        };
        await imageStore.PutDocumentAsync(input.ImageId, FingerprintsDocument, StagingJson.Serialize(fingerprints));
        if (job is { TargetType: TargetType.ContainerImage, ContainerRegistry.Length: > 0 })
        {
            await SaveListingAsync(job, input.Round, input.ImageId);
        }

        long stored = context.Manifest.Chunks.Sum(c => (long)c.StoredLength);
        long changed = context.Manifest.Chunks.Where(c => c.Pack is not null).Sum(c => (long)c.Length);
        await jobs.UpdateAsync(job.JobId, j =>
        {
            ReplicationJobRun run = j.ReplicationJobRuns.First(r => r.Round == input.Round);
            run.ImageId = input.ImageId;
            run.EndTime = clock.GetUtcNow();
            run.UploadedBytes = stored;
            run.ChangedBytes = changed;
            j.BusinessStatus = BusinessStatus.Cleaning;
            j.Progress = 100;
            j.EtaSeconds = 0;
            j.Disks = context.Manifest.Disks.Select(d => new DiskProgress
            {
                Index = d.Index,
                TotalBytes = d.SizeBytes,
                ScannedBytes = d.SizeBytes,
                UploadedBytes = context.Manifest.Chunks.Where(c => c.Disk == d.Index).Sum(c => (long)c.StoredLength),
                SkippedBytes = d.SizeBytes - context.Manifest.Chunks.Where(c => c.Disk == d.Index).Sum(c => (long)c.Length),
            }).ToList();
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        });
        await ApplyRetentionAsync(job);
        return true;
    }

    /// <summary>
    /// The listing of the image this round's layer completes: the base round's listing with the layer applied (whiteouts
    /// remove, entries add). Made before retention can delete the base's image; kept once made (a retried finalize finds it).
    /// </summary>
    private async Task SaveListingAsync(ReplicationJob job, int round, string imageId)
    {
        if (await imageStore.GetDocumentAsync(imageId, ListingDocument) is not null)
        {
            return;
        }

        Smc.Files.TreeListing? below = null;
        if (job.ReplicationJobRuns.First(r => r.Round == round).LayerBase is int layerBase)
        {
            string? baseImage = job.ReplicationJobRuns.FirstOrDefault(r => r.Round == layerBase)?.ImageId;
            byte[]? document = baseImage is null ? null : await imageStore.GetDocumentAsync(baseImage, ListingDocument);
            if (document is null)
            {
                // Nothing to add the layer to: the next round's layer holds the whole tree again.
                logger.LogWarning("No listing of round {Base} for {JobId}; round {Round} gets none, and the next round captures the whole tree", layerBase, job.JobId, round);
                return;
            }

            below = Smc.Files.TreeListing.Deserialize(document);
        }

        await using Stream tar = (await imageService.OpenDiskAsync(imageId, "0", "raw")).Content;
        Smc.Files.TreeListing listing = await Smc.Files.TreeListing.ApplyLayerAsync(below, tar);
        await imageStore.PutDocumentAsync(imageId, ListingDocument, listing.Serialize());
    }

    public async Task<bool> DiscardImageAsync(DiscardImageInput input)
    {
        Log(TaskNames.DiscardImageActivity, input.JobId);
        await imageStore.DeleteAsync(input.ImageId);
        await images.DeleteAsync(input.ImageId);
        await jobs.UpdateAsync(input.JobId, j =>
        {
            foreach (ReplicationJobRun run in j.ReplicationJobRuns.Where(r => r.ImageId == input.ImageId))
            {
                run.ImageId = null;
            }

            return true;
        });

        // Packs kept for the refused round are garbage now (a new attempt keeps them again from staging).
        await CollectPacksAsync(input.JobId);
        return true;
    }

    public async Task<bool> PurgeStagingAsync(string jobId)
    {
        Log(TaskNames.PurgeStagingActivity, jobId);
        ReplicationJob? job = (await jobs.GetAsync(jobId))?.Value;
        await staging.DeleteAsync(jobId);
        rounds.Forget(jobId);
        if (job is not null)
        {
            await sources.UpdateAsync(job.SourceId, s => s.PendingCommands.RemoveAll(c => c.JobId == jobId) > 0);
        }

        return true;
    }

    private async Task ApplyRetentionAsync(ReplicationJob job)
    {
        var mine = new List<LocalImage>();
        await foreach (Stored<LocalImage> image in images.ListAsync())
        {
            if (image.Value.JobId == job.JobId && image.Value.Status == "Available")
            {
                mine.Add(image.Value);
            }
        }

        foreach (LocalImage old in mine.OrderByDescending(i => i.Round).Skip(Math.Max(1, job.MaxNumberOfImageToKeep)))
        {
            await imageStore.DeleteAsync(old.ImageId);
            await images.DeleteAsync(old.ImageId);
        }

        await CollectPacksAsync(job.JobId);
    }

    /// <summary>
    /// Deletes the job's kept packs that no image of the job still uses. Runs where no round of the job is being
    /// assembled: after an image is finalized (its own packs are in its maps by then) and after a refused round.
    /// </summary>
    private async Task CollectPacksAsync(string jobId)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        await foreach (Stored<LocalImage> image in images.ListAsync())
        {
            if (image.Value.JobId != jobId)
            {
                continue;
            }

            foreach (ImageDisk disk in image.Value.Disks)
            {
                if (await imageStore.GetDocumentAsync(image.Value.ImageId, ImageDiskMap.DocumentName(disk.Index)) is { } document)
                {
                    keep.UnionWith(ImageDiskMap.Deserialize(document).Extents.Select(e => $"{e.Round}/{e.Pack}"));
                }
            }
        }

        await imageStore.DeletePacksAsync(jobId, keep);
    }

    /// <summary>
    /// A destination disk of this round as references to sealed chunks: those sent this round (in its kept packs), and
    /// for those it left out as unchanged, the base image's references. Each round's data key goes in sealed with the
    /// master key, so the image stays readable when the job and its keys are gone.
    /// </summary>
    private async Task<ImageDiskMap> BuildMapAsync(string jobId, int round, RoundContext context, int disk, DiskMapping mapping)
    {
        ImageDiskMap? baseMap = null;
        if (context.BaseImageId is not null)
        {
            byte[] document = await imageStore.GetDocumentAsync(context.BaseImageId, ImageDiskMap.DocumentName(disk))
                ?? throw new InvalidOperationException($"The base image {context.BaseImageId} of round {round} has no map of disk {disk}.");
            baseMap = ImageDiskMap.Deserialize(document);
        }

        Dictionary<long, ImageExtent> fromBase = baseMap?.Extents.ToDictionary(e => e.Source) ?? [];
        var extents = new List<ImageExtent>();
        foreach (ManifestChunk c in context.Manifest.Chunks.Where(c => c.Disk == disk))
        {
            if (mapping.Map(c.Offset, c.Length) is not long destination)
            {
                continue;
            }

            extents.Add(c.Pack is not null
                ? new ImageExtent(destination, round, c.Offset, c.Length, c.Pack, c.Position, c.StoredLength)
                : fromBase[c.Offset] with { Destination = destination });
        }

        var sealedKeys = new Dictionary<int, string>();
        foreach (int r in extents.Select(e => e.Round).Distinct())
        {
            sealedKeys[r] = r == round
                ? Convert.ToBase64String(master.Seal(context.Keys.DataKey, ImageDiskMap.KeyContext(jobId, r)))
                : baseMap!.Keys[r];
        }

        return new ImageDiskMap
        {
            JobId = jobId,
            Disk = disk,
            SizeBytes = mapping.DestinationSize,
            Keys = sealedKeys,
            Extents = [.. extents.OrderBy(e => e.Destination)],
            Overlays = [.. mapping.TableWrites.Select(t => new ImageOverlay(t.Offset, t.Bytes))],
        };
    }

    private void Log(string activity, string jobId) =>
        logger.LogInformation("Activity {Activity} for {JobId} on host {HostId}", activity, jobId, JobSteps.HostId);
}
