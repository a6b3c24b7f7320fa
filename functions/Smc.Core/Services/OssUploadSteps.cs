using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The first half of an export of provider <c>alibaba</c>: each destination disk of a round's image uploaded to OSS as
/// a multipart upload (read from the image, part by part). The uploadIds live on the job's run, so a host that dies
/// mid-upload is followed by one that uploads only the parts OSS doesn't list. Every step is idempotent. Errors the
/// operator must fix come back as <c>Alibaba.*</c> codes with what to do; they are never retried.
/// </summary>
public sealed class OssUploadSteps(
    IRecordStore<ReplicationJob> jobs,
    ImageService imageService,
    ICloudImages cloud,
    CloudExportRecords records,
    TimeProvider clock,
    ILogger<OssUploadSteps> logger)
{
    /// <summary>Parts one upload activity sends (an activity stays a few minutes long at most, as Functions want).</summary>
    public const int PartsPerActivity = 16;

    /// <summary>Parts an activity uploads at once (each streamed through one 1 MiB buffer, whatever the part size).</summary>
    public const int PartParallelism = 4;

    /// <summary>
    /// Sets up (or picks up) the export of a round: records its disks and their multipart uploads on the run and lists
    /// the parts each still needs. With <see cref="ExportInput.Round"/> null: the newest round whose export is unfinished
    /// (a restarted job), or nothing.
    /// </summary>
    public async Task<ExportPlan> BeginAsync(ExportInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.BeginExportActivity, input.JobId, JobSteps.HostId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value;
        if (job is null || job.ImageProvider != ImageProvider.Alibaba || job.TargetType != TargetType.Image)
        {
            return Nothing;
        }

        ReplicationJobRun? run = input.Round is int r
            ? job.ReplicationJobRuns.FirstOrDefault(x => x.Round == r)
            : job.ReplicationJobRuns.Where(x => x.EndTime is not null && x.ImageId is not null && x.Export?.Status is not (CloudExportStatus.Available or CloudExportStatus.Deleted))
                .MaxBy(x => x.Round);
        if (run is null || (input.Round is null && run.Round != job.ReplicationJobRuns.Max(x => x.Round)))
        {
            return Nothing;
        }

        if (run.ImageId is null)
        {
            return Failed(ErrorCodes.ExportImageMissing, $"Round {run.Round} has no image to export. Start the job again to run the round anew.");
        }

        if (!cloud.IsConfigured)
        {
            return Failed(CloudExports.Code(UnconfiguredCloudImages.NotConfigured()), UnconfiguredCloudImages.NotConfigured().Message);
        }

        LocalImage image;
        try
        {
            image = await imageService.GetAsync(run.ImageId, cancellationToken);
        }
        catch (Errors.SmcException e) when (e.Status == 404)
        {
            // Nothing to export any more: the run no longer names an image, so the next start runs a new round.
            int gone = run.Round;
            await jobs.UpdateAsync(job.JobId, j =>
            {
                ReplicationJobRun x = j.ReplicationJobRuns.First(y => y.Round == gone);
                x.ImageId = null;
                x.Export = null;
                return true;
            }, cancellationToken: cancellationToken);
            return Failed(ErrorCodes.ExportImageMissing, $"The image {run.ImageId} of round {run.Round} was deleted before its export finished. Start the job again to run a new round.");
        }

        if (run.Export is null)
        {
            try
            {
                // ImportImage reads only buckets of the image's region: a mistyped region is caught here, before any upload.
                // Asked through the job's own region (its VPC endpoint, when configured, is reachable from there).
                IReadOnlyList<string> regions = await cloud.ListRegionsAsync(job.RegionId ?? "", cancellationToken);
                if (!regions.Contains(job.RegionId ?? "", StringComparer.Ordinal))
                {
                    return Failed(ErrorCodes.AlibabaInvalidRegionId, $"regionId '{job.RegionId}' is not an ECS region of this account (it has {string.Join(", ", regions)}). Create a job with one of them.");
                }
            }
            catch (CloudRequestException e) when (e.Code == "NetworkError")
            {
                return Failed(ErrorCodes.AlibabaInvalidRegionId, $"The ECS endpoint of region '{job.RegionId}' can't be reached ({e.Message}): check the job's regionId, and that the control plane can reach Alibaba Cloud.");
            }
            catch (CloudRequestException e) when (e.UserError)
            {
                return Failed(CloudExports.Code(e), CloudExports.Explain(cloud, e, job, null));
            }
        }

        if (image.Disks.FirstOrDefault(d => cloud.PartSizeFor(d.SizeBytes) is null) is { } huge)
        {
            return Failed(ErrorCodes.AlibabaDiskTooLarge, $"Disk {huge.Index} is {huge.SizeBytes} bytes: more than OSS takes in one object (10,000 parts of at most 5 GiB), so it can't be imported as an ECS image.");
        }

        int round = run.Round;
        await jobs.UpdateAsync(job.JobId, j =>
        {
            ReplicationJobRun x = j.ReplicationJobRuns.First(y => y.Round == round);
            if (x.Export is null)
            {
                x.Export = new CloudExport
                {
                    RegionId = j.RegionId ?? "",
                    Disks = [.. image.Disks.OrderBy(d => d.Index).Select(d => new CloudExportDisk
                    {
                        Index = d.Index,
                        Bucket = cloud.Bucket,
                        Key = $"{cloud.KeyPrefix.TrimEnd('/')}/{j.JobId}/r{round}/disk{d.Index}.raw",
                        SizeBytes = d.SizeBytes,
                        PartSize = cloud.PartSizeFor(d.SizeBytes)!.Value,
                    })],
                };
            }
            else if (x.Export.Status == CloudExportStatus.Failed)
            {
                // A restart after a failure: upload what is missing (if anything), then import again.
                x.Export.Status = x.Export.Disks.All(d => d.Uploaded) && x.Export.ImageId is not null ? CloudExportStatus.Importing : CloudExportStatus.Uploading;
            }

            j.BusinessStatus = BusinessStatus.Processing;
            j.StatusInfo = new StatusInfo();
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken);

        try
        {
            var disks = new List<ExportDiskPlan>();
            CloudExport export = await records.ExportOfAsync(job.JobId, round, cancellationToken);
            foreach (CloudExportDisk disk in export.Disks)
            {
                if (disk.Uploaded)
                {
                    disks.Add(new ExportDiskPlan(disk.Index, CloudExports.PartCount(disk), []));
                    continue;
                }

                string uploadId = disk.UploadId ?? await StartUploadAsync(job.JobId, round, disk, cancellationToken);
                IReadOnlyList<CloudPart> have;
                try
                {
                    have = await cloud.ListPartsAsync(CloudExports.Target(export, disk), uploadId, cancellationToken: cancellationToken);
                }
                catch (CloudRequestException e) when (e.Code == "NoSuchUpload")
                {
                    // OSS no longer knows the upload: completed by an attempt that died before recording it, or expired by
                    // a lifecycle rule. The object is whole, or the disk is uploaded again under a new upload.
                    if (await cloud.GetObjectSizeAsync(CloudExports.Target(export, disk), cancellationToken) == disk.SizeBytes)
                    {
                        await records.UpdateExportAsync(job.JobId, round, x =>
                        {
                            CloudExportDisk d = x.Disks.First(y => y.Index == disk.Index);
                            d.Uploaded = true;
                            d.UploadId = null;
                            d.UploadedBytes = d.SizeBytes;
                        }, cancellationToken);
                        disks.Add(new ExportDiskPlan(disk.Index, CloudExports.PartCount(disk), []));
                        continue;
                    }

                    await records.UpdateExportAsync(job.JobId, round, x => x.Disks.First(y => y.Index == disk.Index).UploadId = null, cancellationToken);
                    uploadId = await StartUploadAsync(job.JobId, round, disk, cancellationToken);
                    have = [];
                }

                var present = have.Where(p => p.Size == CloudExports.PartLength(disk, p.Number)).ToDictionary(p => p.Number);
                List<int> missing = [.. Enumerable.Range(1, CloudExports.PartCount(disk)).Where(n => !present.ContainsKey(n))];
                long there = present.Values.Sum(p => p.Size);
                await records.UpdateExportAsync(job.JobId, round, e => e.Disks.First(d => d.Index == disk.Index).UploadedBytes = there, cancellationToken);
                disks.Add(new ExportDiskPlan(disk.Index, CloudExports.PartCount(disk), missing));
            }

            return new ExportPlan(round, disks, Math.Max(1, cloud.PollSeconds), null, null);
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return Failed(CloudExports.Code(e), CloudExports.Explain(cloud, e, job, null)) with { Round = round };
        }
    }

    /// <summary>Uploads the given parts of a disk that OSS does not list yet (a rerun after a crash re-sends nothing OSS has).</summary>
    public async Task<UploadPartsResult> UploadPartsAsync(UploadPartsInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.UploadPartsActivity, input.JobId, JobSteps.HostId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        ReplicationJobRun run = job.ReplicationJobRuns.First(r => r.Round == input.Round);
        CloudExport export = run.Export ?? throw new InvalidOperationException($"Round {input.Round} of {input.JobId} has no export.");
        CloudExportDisk disk = export.Disks.First(d => d.Index == input.Disk);
        if (disk.Uploaded || input.Parts.Count == 0)
        {
            return new UploadPartsResult(0, 0, null, null);
        }

        string uploadId = disk.UploadId ?? throw new InvalidOperationException($"Disk {input.Disk} of round {input.Round} has no upload under way.");
        CloudObject target = CloudExports.Target(export, disk);
        try
        {
            IReadOnlyList<CloudPart> have = await cloud.ListPartsAsync(target, uploadId, input.Parts.Min(), input.Parts.Max(), cancellationToken);
            var present = have.Where(p => p.Size == CloudExports.PartLength(disk, p.Number)).Select(p => p.Number).ToHashSet();
            List<int> todo = [.. input.Parts.Where(n => !present.Contains(n)).Order()];
            long sentBytes = 0;

            // One image stream per worker (a stream reads sequentially); each worker takes every N-th part.
            int workers = Math.Min(PartParallelism, Math.Max(1, todo.Count));
            await Parallel.ForEachAsync(Enumerable.Range(0, workers), cancellationToken, async (w, ct) =>
            {
                (Stream opened, string _) = await imageService.OpenDiskAsync(run.ImageId!, disk.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), "raw", ct);
                await using Stream content = opened;
                for (int i = w; i < todo.Count; i += workers)
                {
                    int number = todo[i];
                    long length = CloudExports.PartLength(disk, number);
                    await cloud.UploadPartAsync(target, uploadId, number, content, (number - 1) * disk.PartSize, length, ct);
                    Interlocked.Add(ref sentBytes, length);
                }
            });

            long sent = sentBytes;
            await records.UpdateExportAsync(input.JobId, input.Round, e => e.Disks.First(d => d.Index == input.Disk).UploadedBytes += sent, cancellationToken);
            logger.ExportPartsSent(input.JobId, input.Round, input.Disk, todo.Count, input.Parts.Count - todo.Count);
            return new UploadPartsResult(todo.Count, sent, null, null);
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new UploadPartsResult(0, 0, CloudExports.Code(e), CloudExports.Explain(cloud, e, job, disk));
        }
    }

    /// <summary>Completes a disk's multipart upload once OSS has every part (an upload completed by an earlier attempt is found by its object).</summary>
    public async Task<ExportStepResult> CompleteUploadAsync(ExportDiskInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.CompleteUploadActivity, input.JobId, JobSteps.HostId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        CloudExport export = job.ReplicationJobRuns.First(r => r.Round == input.Round).Export ?? throw new InvalidOperationException("No export.");
        CloudExportDisk disk = export.Disks.First(d => d.Index == input.Disk);
        if (disk.Uploaded)
        {
            return Ok;
        }

        CloudObject target = CloudExports.Target(export, disk);
        try
        {
            if (disk.UploadId is { } uploadId && !await CompletedEarlierAsync(target, uploadId, disk, cancellationToken))
            {
                IReadOnlyList<CloudPart> parts = await cloud.ListPartsAsync(target, uploadId, cancellationToken: cancellationToken);
                int count = CloudExports.PartCount(disk);
                if (parts.Count(p => p.Number <= count && p.Size == CloudExports.PartLength(disk, p.Number)) != count)
                {
                    // Not a user error: some part went missing between upload and now. Retried (from the plan) by the orchestration.
                    throw new InvalidOperationException($"OSS lists {parts.Count} of the {count} parts of {target.Key}.");
                }

                await cloud.CompleteUploadAsync(target, uploadId, [.. parts.Where(p => p.Number <= count).OrderBy(p => p.Number)], cancellationToken);
            }
            else if (disk.UploadId is null && await cloud.GetObjectSizeAsync(target, cancellationToken) != disk.SizeBytes)
            {
                throw new InvalidOperationException($"Disk {disk.Index} has no upload under way and no complete object {target.Key}.");
            }

            await records.UpdateExportAsync(input.JobId, input.Round, e =>
            {
                CloudExportDisk d = e.Disks.First(x => x.Index == input.Disk);
                d.Uploaded = true;
                d.UploadId = null;
                d.UploadedBytes = d.SizeBytes;
            }, cancellationToken);
            logger.ExportDiskUploaded(input.JobId, input.Round, disk.Index, disk.Bucket, disk.Key, disk.SizeBytes);
            return Ok;
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new ExportStepResult(CloudExports.Code(e), CloudExports.Explain(cloud, e, job, disk));
        }
    }

    private static ExportPlan Nothing => new(null, [], 0, null, null);

    private static ExportStepResult Ok => new(null, null);

    private static ExportPlan Failed(string code, string message) => new(null, [], 0, code, message);

    private async Task<string> StartUploadAsync(string jobId, int round, CloudExportDisk disk, CancellationToken cancellationToken)
    {
        CloudExport export = await records.ExportOfAsync(jobId, round, cancellationToken);
        string uploadId = await cloud.StartUploadAsync(CloudExports.Target(export, disk), cancellationToken);
        string? kept = null;
        await records.UpdateExportAsync(jobId, round, e =>
        {
            CloudExportDisk d = e.Disks.First(x => x.Index == disk.Index);
            d.UploadId ??= uploadId;
            kept = d.UploadId;
        }, cancellationToken);
        if (kept != uploadId)
        {
            // Another attempt of this step recorded its upload first: ours must not be left half-made.
            await cloud.AbortUploadAsync(CloudExports.Target(export, disk), uploadId, cancellationToken);
        }

        return kept!;
    }

    /// <summary>An upload OSS no longer knows whose object is there whole: an earlier attempt completed it and died before recording that.</summary>
    private async Task<bool> CompletedEarlierAsync(CloudObject target, string uploadId, CloudExportDisk disk, CancellationToken cancellationToken)
    {
        try
        {
            await cloud.ListPartsAsync(target, uploadId, 1, 1, cancellationToken);
            return false;
        }
        catch (CloudRequestException e) when (e.Code == "NoSuchUpload")
        {
            if (await cloud.GetObjectSizeAsync(target, cancellationToken) == disk.SizeBytes)
            {
                return true;
            }

            throw;
        }
    }
}
