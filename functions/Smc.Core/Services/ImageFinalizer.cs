using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Core.Orchestration;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Disks;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// The end of a round's assembly: its image made from the checked slices (a disk map per destination disk, the record,
/// the fingerprints the next round compares with, a container job's listing), then retention; or a refused round's
/// image discarded. Every step is idempotent.
/// </summary>
public sealed class ImageFinalizer(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    IRecordStore<LocalImage> images,
    IImageStore imageStore,
    ImageService imageService,
    MasterKey master,
    CommittedRounds rounds,
    ImageRetention retention,
    TimeProvider clock,
    ILogger<ImageFinalizer> logger)
{
    public async Task<bool> FinalizeImageAsync(FinalizeImageInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.FinalizeImageActivity, input.JobId, JobSteps.HostId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        RoundContext context = await rounds.LoadAsync(job, input.Round, input.ManifestSha256, cancellationToken);
        SourceServer? source = (await sources.GetAsync(job.SourceId, cancellationToken))?.Value;
        var disks = new List<ImageDisk>();
        foreach ((int disk, DiskMapping mapping) in context.Mappings.OrderBy(kv => kv.Key))
        {
            await WriteMapAsync(input.ImageId, job.JobId, input.Round, context, disk, mapping, cancellationToken);

            ManifestDisk md = context.Head.Disks.First(d => d.Index == disk);
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
                WrittenBytes = context.Index.Totals(disk).Bytes,
            });
        }

        var image = new LocalImage
        {
            ImageId = input.ImageId,
            JobId = job.JobId,
            SourceId = job.SourceId,
            ImageName = JobNaming.ImageName(job, input.Round),
            Round = input.Round,
            Status = "Available",
            Platform = source?.Platform,
            Architecture = source?.Architecture,
            Disks = disks,
            CreatedAt = clock.GetUtcNow(),
        };
        Stored<LocalImage>? existing = await images.GetAsync(input.ImageId, cancellationToken);
        if (existing is null)
        {
            await images.InsertAsync(input.ImageId, image, cancellationToken);
        }
        else
        {
            await images.ReplaceAsync(input.ImageId, image, existing.ETag, cancellationToken);
        }

        if (job.TargetType == TargetType.Image)
        {
            BootReadiness readiness = await InspectBootAsync(input.ImageId, cancellationToken);
            await images.UpdateAsync(input.ImageId, i =>
            {
                i.BootReadiness = readiness;
                return true;
            }, cancellationToken);
        }

        // The next round's base: this round's fingerprints, beside its image (written to a local file a chunk at a time, then uploaded).
        var fingerprints = new RoundFingerprints
        {
            JobId = job.JobId,
            Round = input.Round,
            ChunkSize = context.Head.ChunkSize,
            DiskSizes = [.. context.Head.Disks.OrderBy(d => d.Index).Select(d => d.SizeBytes)],
        };
        await PutDocumentAsync(input.ImageId, ImageDocuments.Fingerprints, file =>
            StagingJson.WriteChunked(file, fingerprints, context.Index.All().Select(c => new FingerprintEntry { Disk = c.Disk, Offset = c.Offset, Length = c.Length, Fingerprint = c.FingerprintHex })),
            cancellationToken);

        if (job is { TargetType: TargetType.ContainerImage, ContainerRegistry.Length: > 0 })
        {
            await SaveListingAsync(job, input.Round, input.ImageId, cancellationToken);
        }

        long stored = context.Index.Disks.Sum(d => context.Index.Totals(d).StoredBytes);
        long changed = context.Index.Disks.Sum(d => context.Index.Totals(d).SentBytes);
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
            j.Disks = context.Head.Disks.Select(d => new DiskProgress
            {
                Index = d.Index,
                TotalBytes = d.SizeBytes,
                ScannedBytes = d.SizeBytes,
                UploadedBytes = context.Index.Totals(d.Index).StoredBytes,
                SkippedBytes = d.SizeBytes - context.Index.Totals(d.Index).Bytes,
            }).ToList();
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken);
        await retention.ApplyAsync(job, cancellationToken);
        return true;
    }

    /// <summary>
    /// The system disk's boot readiness, read through the image itself (what a download serves). An image whose bytes
    /// can't be made sense of gets a warning, never a failed round: the copy is what the source held (so every failure
    /// of the inspection is caught here, not only the parsers' own refusals).
    /// </summary>
    private async Task<BootReadiness> InspectBootAsync(string imageId, CancellationToken cancellationToken)
    {
        (Stream content, _) = await imageService.OpenDiskAsync(imageId, "0", "raw", cancellationToken);
        await using (content)
        {
            try
            {
                using var reader = new Smc.Disks.DiskReader(content, leaveOpen: true);
                return await Task.Run(() => BootInspector.Inspect(reader), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.BootNotInspected(imageId, e.Message);
                return new BootReadiness { Checks = [new BootCheck("image.read", BootCheck.Warn, $"The system disk could not be inspected: {e.Message}", null)] };
            }
        }
    }

    /// <summary>
    /// The listing of the image this round's layer completes: the base round's listing with the layer applied (whiteouts
    /// remove, entries add). Made before retention can delete the base's image; kept once made (a retried finalize finds it).
    /// </summary>
    private async Task SaveListingAsync(ReplicationJob job, int round, string imageId, CancellationToken cancellationToken)
    {
        if (await imageStore.DocumentExistsAsync(imageId, ImageDocuments.Listing, cancellationToken))
        {
            return;
        }

        Smc.Files.TreeListing? below = null;
        if (job.ReplicationJobRuns.First(r => r.Round == round).LayerBase is int layerBase)
        {
            string? baseImage = job.ReplicationJobRuns.FirstOrDefault(r => r.Round == layerBase)?.ImageId;
            byte[]? document = baseImage is null ? null : await imageStore.GetDocumentAsync(baseImage, ImageDocuments.Listing, cancellationToken);
            if (document is null)
            {
                // Nothing to add the layer to: the next round's layer holds the whole tree again.
                logger.ListingMissing(layerBase, job.JobId, round);
                return;
            }

            below = Smc.Files.TreeListing.Deserialize(document);
        }

        await using Stream tar = (await imageService.OpenDiskAsync(imageId, "0", "raw", cancellationToken)).Content;
        Smc.Files.TreeListing listing = await Smc.Files.TreeListing.ApplyLayerAsync(below, tar, cancellationToken);
        await imageStore.PutDocumentAsync(imageId, ImageDocuments.Listing, listing.Serialize(), cancellationToken);
    }

    public async Task<bool> DiscardImageAsync(DiscardImageInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.DiscardImageActivity, input.JobId, JobSteps.HostId);
        await imageStore.DeleteAsync(input.ImageId, cancellationToken);
        await images.DeleteAsync(input.ImageId, cancellationToken: cancellationToken);
        await jobs.UpdateAsync(input.JobId, j =>
        {
            foreach (ReplicationJobRun run in j.ReplicationJobRuns.Where(r => r.ImageId == input.ImageId))
            {
                run.ImageId = null;
            }

            return true;
        }, cancellationToken: cancellationToken);

        // Packs kept for the refused round are garbage now (a new attempt keeps them again from staging).
        await retention.CollectPacksAsync(input.JobId, cancellationToken);
        return true;
    }

    /// <summary>
    /// A destination disk of this round as references to sealed chunks: those sent this round (in its kept packs), and
    /// for those it left out as unchanged, the base image's references. Each round's data key goes in sealed with the
    /// master key, so the image stays readable when the job and its keys are gone. The base map and the new one are
    /// streamed through local files (the base's extents sorted by source to meet this round's chunks, the new ones
    /// by destination), so a disk of millions of chunks costs the host disk, not memory.
    /// </summary>
    private async Task WriteMapAsync(string imageId, string jobId, int round, RoundContext context, int disk, DiskMapping mapping, CancellationToken cancellationToken)
    {
        using var fromBase = new RecordSorter<ExtentRecord>(ExtentRecord.BySource);
        ImageDiskMap? baseMap = null;
        if (context.BaseImageId is not null)
        {
            await using Stream document = await imageStore.OpenDocumentAsync(context.BaseImageId, ImageDiskMap.DocumentName(disk), cancellationToken)
                ?? throw new InvalidOperationException($"The base image {context.BaseImageId} of round {round} has no map of disk {disk}.");
            baseMap = await ImageDiskMap.ReadAsync(document, e => fromBase.Add(ExtentRecord.From(e)), cancellationToken);
        }

        using var extents = new RecordSorter<ExtentRecord>(ExtentRecord.ByDestination);
        var rounds = new HashSet<int>();
        using IEnumerator<ExtentRecord> baseExtents = fromBase.Sorted().GetEnumerator();
        bool more = baseExtents.MoveNext();
        foreach (ChunkRecord c in context.Index.All(disk))
        {
            long? destination = mapping.Map(c.Offset, c.Length);
            ExtentRecord extent;
            if (c.Sent)
            {
                extent = new ExtentRecord { Round = round, Source = c.Offset, Length = c.Length, Pack = c.Pack, Position = c.Position, StoredLength = c.StoredLength };
            }
            else
            {
                while (more && baseExtents.Current.Source < c.Offset)
                {
                    more = baseExtents.MoveNext();
                }

                if (destination is null)
                {
                    continue;
                }

                extent = more && baseExtents.Current.Source == c.Offset ? baseExtents.Current
                    : throw new InvalidOperationException($"The base image {context.BaseImageId} of round {round} maps nothing at offset {c.Offset} of disk {disk}.");
            }

            if (destination is long at)
            {
                extents.Add(extent with { Destination = at });
                rounds.Add(extent.Round);
            }
        }

        var head = new ImageDiskMap
        {
            JobId = jobId,
            Disk = disk,
            SizeBytes = mapping.DestinationSize,
            Keys = rounds.ToDictionary(r => r, r => r == round
                ? Convert.ToBase64String(master.Seal(context.Keys.DataKey, ImageDiskMap.KeyContext(jobId, r)))
                : baseMap!.Keys[r]),
            Overlays = [.. mapping.TableWrites.Select(t => new ImageOverlay(t.Offset, t.Bytes))],
        };
        await PutDocumentAsync(imageId, ImageDiskMap.DocumentName(disk), file => ImageDiskMap.Write(file, head, extents.Sorted().Select(e => e.ToExtent())), cancellationToken);
    }

    /// <summary>A document written to a local file (deleted on close), then uploaded from it: a big one is never held whole.</summary>
    private async Task PutDocumentAsync(string imageId, string name, Action<Stream> write, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(Path.Combine(Path.GetTempPath(), $"smc-document-{Guid.NewGuid():N}.json"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        write(file);
        file.Position = 0;
        await imageStore.PutDocumentAsync(imageId, name, file, cancellationToken);
    }
}
