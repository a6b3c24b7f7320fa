using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The work behind the export activities of provider <c>alibaba</c>: each destination disk of a round's image uploaded
/// to OSS as a multipart upload (read from the image, part by part), then ImportImage with a ClientToken, polled until
/// Available or CreateFailed. The uploadIds live on the job's run, so a host that dies mid-upload is followed by one that
/// uploads only the parts OSS doesn't list. Every step is idempotent. Errors the operator must fix come back as
/// <c>Alibaba.*</c> codes with what to do; they are never retried.
/// </summary>
public sealed class ExportSteps(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    ImageService imageService,
    ICloudImages cloud,
    TimeProvider clock,
    ILogger<ExportSteps> logger)
{

    /// <summary>Parts one upload activity sends (an activity stays a few minutes long at most, as Functions want).</summary>
    public const int PartsPerActivity = 16;

    /// <summary>Parts an activity uploads at once (each streamed through one 1 MiB buffer, whatever the part size).</summary>
    public const int PartParallelism = 4;

    private const string EfiSystemPartition = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";


    /// <summary>
    /// Sets up (or picks up) the export of a round: records its disks and their multipart uploads on the run and lists
    /// the parts each still needs. With <see cref="ExportInput.Round"/> null: the newest round whose export is unfinished
    /// (a restarted job), or nothing.
    /// </summary>
    public async Task<ExportPlan> BeginAsync(ExportInput input)
    {
        Log(TaskNames.BeginExportActivity, input.JobId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId))?.Value;
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
            return Failed(Code(UnconfiguredCloudImages.NotConfigured()), UnconfiguredCloudImages.NotConfigured().Message);
        }

        LocalImage image;
        try
        {
            image = await imageService.GetAsync(run.ImageId);
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
            });
            return Failed(ErrorCodes.ExportImageMissing, $"The image {run.ImageId} of round {run.Round} was deleted before its export finished. Start the job again to run a new round.");
        }

        if (run.Export is null)
        {
            try
            {
                // ImportImage reads only buckets of the image's region: a mistyped region is caught here, before any upload.
                // Asked through the job's own region (its VPC endpoint, when configured, is reachable from there).
                IReadOnlyList<string> regions = await cloud.ListRegionsAsync(job.RegionId ?? "");
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
                return Failed(Code(e), Explain(e, job, null));
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
        });

        try
        {
            var disks = new List<ExportDiskPlan>();
            CloudExport export = await ExportOfAsync(job.JobId, round);
            foreach (CloudExportDisk disk in export.Disks)
            {
                if (disk.Uploaded)
                {
                    disks.Add(new ExportDiskPlan(disk.Index, PartCount(disk), []));
                    continue;
                }

                string uploadId = disk.UploadId ?? await StartUploadAsync(job.JobId, round, disk);
                IReadOnlyList<CloudPart> have;
                try
                {
                    have = await cloud.ListPartsAsync(Target(export, disk), uploadId);
                }
                catch (CloudRequestException e) when (e.Code == "NoSuchUpload")
                {
                    // OSS no longer knows the upload: completed by an attempt that died before recording it, or expired by
                    // a lifecycle rule. The object is whole, or the disk is uploaded again under a new upload.
                    if (await cloud.GetObjectSizeAsync(Target(export, disk)) == disk.SizeBytes)
                    {
                        await UpdateExportAsync(job.JobId, round, x =>
                        {
                            CloudExportDisk d = x.Disks.First(y => y.Index == disk.Index);
                            d.Uploaded = true;
                            d.UploadId = null;
                            d.UploadedBytes = d.SizeBytes;
                        });
                        disks.Add(new ExportDiskPlan(disk.Index, PartCount(disk), []));
                        continue;
                    }

                    await UpdateExportAsync(job.JobId, round, x => x.Disks.First(y => y.Index == disk.Index).UploadId = null);
                    uploadId = await StartUploadAsync(job.JobId, round, disk);
                    have = [];
                }

                var present = have.Where(p => p.Size == PartLength(disk, p.Number)).ToDictionary(p => p.Number);
                List<int> missing = [.. Enumerable.Range(1, PartCount(disk)).Where(n => !present.ContainsKey(n))];
                long there = present.Values.Sum(p => p.Size);
                await UpdateExportAsync(job.JobId, round, e => e.Disks.First(d => d.Index == disk.Index).UploadedBytes = there);
                disks.Add(new ExportDiskPlan(disk.Index, PartCount(disk), missing));
            }

            return new ExportPlan(round, disks, Math.Max(1, cloud.PollSeconds), null, null);
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return Failed(Code(e), Explain(e, job, null)) with { Round = round };
        }
    }

    /// <summary>Uploads the given parts of a disk that OSS does not list yet (a rerun after a crash re-sends nothing OSS has).</summary>
    public async Task<UploadPartsResult> UploadPartsAsync(UploadPartsInput input)
    {
        Log(TaskNames.UploadPartsActivity, input.JobId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        ReplicationJobRun run = job.ReplicationJobRuns.First(r => r.Round == input.Round);
        CloudExport export = run.Export ?? throw new InvalidOperationException($"Round {input.Round} of {input.JobId} has no export.");
        CloudExportDisk disk = export.Disks.First(d => d.Index == input.Disk);
        if (disk.Uploaded || input.Parts.Count == 0)
        {
            return new UploadPartsResult(0, 0, null, null);
        }

        string uploadId = disk.UploadId ?? throw new InvalidOperationException($"Disk {input.Disk} of round {input.Round} has no upload under way.");
        CloudObject target = Target(export, disk);
        try
        {
            IReadOnlyList<CloudPart> have = await cloud.ListPartsAsync(target, uploadId, input.Parts.Min(), input.Parts.Max());
            var present = have.Where(p => p.Size == PartLength(disk, p.Number)).Select(p => p.Number).ToHashSet();
            List<int> todo = [.. input.Parts.Where(n => !present.Contains(n)).Order()];
            long sentBytes = 0;

            // One image stream per worker (a stream reads sequentially); each worker takes every N-th part.
            int workers = Math.Min(PartParallelism, Math.Max(1, todo.Count));
            await Parallel.ForEachAsync(Enumerable.Range(0, workers), async (w, ct) =>
            {
                (Stream opened, string _) = await imageService.OpenDiskAsync(run.ImageId!, disk.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), "raw", ct);
                await using Stream content = opened;
                for (int i = w; i < todo.Count; i += workers)
                {
                    int number = todo[i];
                    long length = PartLength(disk, number);
                    await cloud.UploadPartAsync(target, uploadId, number, content, (number - 1) * disk.PartSize, length, ct);
                    Interlocked.Add(ref sentBytes, length);
                }
            });

            long sent = sentBytes;
            await UpdateExportAsync(input.JobId, input.Round, e => e.Disks.First(d => d.Index == input.Disk).UploadedBytes += sent);
            logger.LogInformation("Export of {JobId} round {Round} disk {Disk}: {Sent} part(s) sent, {Skipped} already in OSS", input.JobId, input.Round, input.Disk, todo.Count, input.Parts.Count - todo.Count);
            return new UploadPartsResult(todo.Count, sent, null, null);
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new UploadPartsResult(0, 0, Code(e), Explain(e, job, disk));
        }
    }

    /// <summary>Completes a disk's multipart upload once OSS has every part (an upload completed by an earlier attempt is found by its object).</summary>
    public async Task<ExportStepResult> CompleteUploadAsync(ExportDiskInput input)
    {
        Log(TaskNames.CompleteUploadActivity, input.JobId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        CloudExport export = job.ReplicationJobRuns.First(r => r.Round == input.Round).Export ?? throw new InvalidOperationException("No export.");
        CloudExportDisk disk = export.Disks.First(d => d.Index == input.Disk);
        if (disk.Uploaded)
        {
            return Ok;
        }

        CloudObject target = Target(export, disk);
        try
        {
            if (disk.UploadId is { } uploadId && !await CompletedEarlierAsync(target, uploadId, disk))
            {
                IReadOnlyList<CloudPart> parts = await cloud.ListPartsAsync(target, uploadId);
                int count = PartCount(disk);
                if (parts.Count(p => p.Number <= count && p.Size == PartLength(disk, p.Number)) != count)
                {
                    // Not a user error: some part went missing between upload and now. Retried (from the plan) by the orchestration.
                    throw new InvalidOperationException($"OSS lists {parts.Count} of the {count} parts of {target.Key}.");
                }

                await cloud.CompleteUploadAsync(target, uploadId, [.. parts.Where(p => p.Number <= count).OrderBy(p => p.Number)]);
            }
            else if (disk.UploadId is null && await cloud.GetObjectSizeAsync(target) != disk.SizeBytes)
            {
                throw new InvalidOperationException($"Disk {disk.Index} has no upload under way and no complete object {target.Key}.");
            }

            await UpdateExportAsync(input.JobId, input.Round, e =>
            {
                CloudExportDisk d = e.Disks.First(x => x.Index == input.Disk);
                d.Uploaded = true;
                d.UploadId = null;
                d.UploadedBytes = d.SizeBytes;
            });
            logger.LogInformation("Export of {JobId} round {Round}: disk {Disk} is in OSS as {Bucket}/{Key} ({Bytes} bytes)", input.JobId, input.Round, disk.Index, disk.Bucket, disk.Key, disk.SizeBytes);
            return Ok;
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new ExportStepResult(Code(e), Explain(e, job, disk));
        }
    }

    /// <summary>Starts ImportImage for the round's uploaded disks (once: the ClientToken makes a retried call the same import).</summary>
    public async Task<ExportStepResult> StartImportAsync(ExportInput input)
    {
        Log(TaskNames.StartImportActivity, input.JobId);
        int round = input.Round ?? throw new ArgumentException("A round is required.", nameof(input));
        ReplicationJob job = (await jobs.GetAsync(input.JobId))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        CloudExport export = job.ReplicationJobRuns.First(r => r.Round == round).Export ?? throw new InvalidOperationException("No export.");
        if (export.ImageId is not null)
        {
            return Ok;
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId))?.Value;
        LocalImage image = await imageService.GetAsync(job.ReplicationJobRuns.First(r => r.Round == round).ImageId!);
        bool windows = string.Equals(source?.Platform ?? image.Platform, "Windows", StringComparison.OrdinalIgnoreCase);
        bool uefi = image.Disks.FirstOrDefault(d => d.Index == 0)?.Parts.Any(p => string.Equals(p.TypeId, EfiSystemPartition, StringComparison.OrdinalIgnoreCase)) == true;
        string architecture = cloud.Architecture(source?.Architecture ?? image.Architecture);
        var request = new CloudImportRequest(
            export.RegionId,
            cloud.ImageName(job.ImageName ?? job.Name, $"-r{round}" + (export.ImportAttempt > 0 ? $"-a{export.ImportAttempt}" : "")),
            [.. export.Disks.OrderBy(d => d.Index).Select(d => new CloudImportDisk(Target(export, d), "RAW", d.SizeBytes))],
            ClientToken: $"{job.JobId}-r{round}-a{export.ImportAttempt}",
            OSType: windows ? "windows" : "linux",
            Platform: windows ? "Windows Server 2019" : "Others Linux",
            Architecture: architecture,
            BootMode: uefi || architecture == "arm64" ? "UEFI" : "BIOS",
            Description: $"SMC Serverless: job {job.JobId}, round {round}, source {job.SourceId}");
        try
        {
            CloudImport started = await cloud.ImportAsync(request);
            await UpdateExportAsync(input.JobId, round, e =>
            {
                e.ImageId = started.ImageId;
                e.TaskId = started.TaskId;
                e.Status = CloudExportStatus.Importing;
            });
            logger.LogInformation("Export of {JobId} round {Round}: ImportImage started {ImageId} (task {TaskId}) in {Region}", job.JobId, round, started.ImageId, started.TaskId, export.RegionId);
            return Ok;
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            // The next attempt (after the operator fixed the cause) is a new import with its own ClientToken.
            await UpdateExportAsync(input.JobId, round, x => x.ImportAttempt++);
            return new ExportStepResult(Code(e), Explain(e, job, null));
        }
    }

    /// <summary>Polls the import: Creating (with progress), Available, or CreateFailed as an error that says what to do.</summary>
    public async Task<ImportCheck> CheckImportAsync(ExportInput input)
    {
        Log(TaskNames.CheckImportActivity, input.JobId);
        int round = input.Round ?? throw new ArgumentException("A round is required.", nameof(input));
        ReplicationJob job = (await jobs.GetAsync(input.JobId))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        CloudExport export = job.ReplicationJobRuns.First(r => r.Round == round).Export ?? throw new InvalidOperationException("No export.");
        if (export.Status == CloudExportStatus.Available)
        {
            return new ImportCheck(CloudExportStatus.Available, 100, null, null);
        }

        string imageId = export.ImageId ?? throw new InvalidOperationException("The import has not started.");
        try
        {
            CloudImageState? state = await cloud.GetImageAsync(export.RegionId, imageId);
            switch (state?.Status)
            {
                case "Available":
                    await UpdateExportAsync(input.JobId, round, e =>
                    {
                        e.Status = CloudExportStatus.Available;
                        e.ImportProgress = 100;
                        e.AvailableAt = clock.GetUtcNow();
                    });
                    logger.LogInformation("Export of {JobId} round {Round}: image {ImageId} is Available", job.JobId, round, imageId);
                    return new ImportCheck(CloudExportStatus.Available, 100, null, null);
                case "Creating" or "Waiting":
                    await UpdateExportAsync(input.JobId, round, e => e.ImportProgress = state.ProgressPercent);
                    return new ImportCheck("Creating", state.ProgressPercent, null, null);
                default:
                    string status = state?.Status ?? "gone";
                    string why = "";
                    if (export.TaskId is { } taskId)
                    {
                        try
                        {
                            CloudTaskState task = await cloud.GetImportTaskAsync(export.RegionId, taskId);
                            why = task.ErrorCode is null ? "" : $" ECS says: {task.ErrorCode}: {task.ErrorMessage}.";
                        }
                        catch (CloudRequestException)
                        {
                            // The reason is a courtesy: the failure itself is known.
                        }
                    }

                    // CreateFailed (or gone): the next attempt imports anew, with its own ClientToken; the disks stay in OSS.
                    await UpdateExportAsync(input.JobId, round, e =>
                    {
                        e.ImportAttempt++;
                        e.ImageId = null;
                        e.TaskId = null;
                    });

                    return new ImportCheck(status, 0, ErrorCodes.AlibabaImportFailed,
                        $"ECS could not import image {imageId} in {export.RegionId} (status {status}).{why} Check that the source's system disk boots as an ECS instance expects (virtio drivers, fstab by UUID), then start the job again: the disks stay in OSS, so only the import is retried.");
            }
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new ImportCheck("Error", 0, Code(e), Explain(e, job, null));
        }
    }

    /// <summary>
    /// Ends an export. Succeeded: the disk objects are deleted (unless configured to stay) and ECS images of rounds beyond
    /// maxNumberOfImageToKeep are deleted. Failed: unfinished multipart uploads are aborted, so nothing is left half-made.
    /// </summary>
    public async Task<bool> EndAsync(EndExportInput input)
    {
        Log(TaskNames.EndExportActivity, input.JobId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId))?.Value;
        CloudExport? export = job?.ReplicationJobRuns.FirstOrDefault(r => r.Round == input.Round)?.Export;
        if (job is null || export is null || !cloud.IsConfigured)
        {
            return false;
        }

        if (!input.Succeeded)
        {
            var aborted = new HashSet<string>(StringComparer.Ordinal);
            foreach (CloudExportDisk disk in export.Disks.Where(d => d.UploadId is not null))
            {
                if (await Tolerating(() => cloud.AbortUploadAsync(Target(export, disk), disk.UploadId!), job.JobId))
                {
                    aborted.Add(disk.UploadId!);
                }
            }

            // An upload whose abort was refused (a revoked key) keeps its id: a restart resumes it or aborts it then.
            await UpdateExportAsync(input.JobId, input.Round, e =>
            {
                e.Status = CloudExportStatus.Failed;
                foreach (CloudExportDisk d in e.Disks.Where(d => d.UploadId is not null && aborted.Contains(d.UploadId)))
                {
                    d.UploadId = null;
                    d.UploadedBytes = 0;
                }
            });
            return true;
        }

        await jobs.UpdateAsync(input.JobId, j =>
        {
            j.BusinessStatus = BusinessStatus.Cleaning;
            return true;
        });
        if (!cloud.KeepObjects)
        {
            foreach (CloudExportDisk disk in export.Disks)
            {
                await Tolerating(() => cloud.DeleteObjectAsync(Target(export, disk)), job.JobId);
            }
        }

        // Retention: the newest maxNumberOfImageToKeep ECS images of the job stay.
        foreach (ReplicationJobRun old in job.ReplicationJobRuns.Where(r => r.Export is { Status: CloudExportStatus.Available, ImageId: not null })
                     .OrderByDescending(r => r.Round).Skip(Math.Max(1, job.MaxNumberOfImageToKeep)))
        {
            CloudExport e = old.Export!;
            if (await Tolerating(() => cloud.DeleteImageAsync(e.RegionId, e.ImageId!), job.JobId))
            {
                await UpdateExportAsync(input.JobId, old.Round, x => x.Status = CloudExportStatus.Deleted);
                logger.LogInformation("Export of {JobId}: image {ImageId} of round {Round} deleted (maxNumberOfImageToKeep {Keep})", job.JobId, e.ImageId, old.Round, job.MaxNumberOfImageToKeep);
            }
        }

        return true;
    }

    /// <summary>
    /// The test launch of a finishing job that asked for one: one instance from the newest ECS image (RunInstances with a
    /// ClientToken, so a retry is the same instance). A refusal doesn't undo the migration: it comes back as a code and
    /// a message for the finished job.
    /// </summary>
    public async Task<ExportStepResult> LaunchAsync(string jobId)
    {
        Log(TaskNames.LaunchInstanceActivity, jobId);
        ReplicationJob? job = (await jobs.GetAsync(jobId))?.Value;
        CloudExport? export = job?.ReplicationJobRuns.Where(r => r.Export is { Status: CloudExportStatus.Available, ImageId: not null }).MaxBy(r => r.Round)?.Export;
        if (job is null || !job.WantsTestLaunch || job.InstanceId is not null || export is null)
        {
            return Ok;
        }

        try
        {
            string instanceId = await cloud.LaunchInstanceAsync(new CloudLaunchRequest(export.RegionId, export.ImageId!, $"{jobId}-launch",
                cloud.ImageName(job.ImageName ?? job.Name, "-test"), job.InstanceType, job.VSwitchId, job.SecurityGroupId, job.LaunchTemplateId, job.LaunchTemplateVersion));
            await jobs.UpdateAsync(jobId, j =>
            {
                j.InstanceId = instanceId;
                j.UpdatedAt = clock.GetUtcNow();
                return true;
            });
            logger.LogInformation("Test launch of {JobId}: instance {InstanceId} from image {ImageId} in {Region}", jobId, instanceId, export.ImageId, export.RegionId);
            return Ok;
        }
        catch (CloudRequestException e)
        {
            // Also after the client's retries of a transient error: the migration is done, the launch is reported.
            return new ExportStepResult(ErrorCodes.AlibabaLaunchPrefix + e.Code,
                $"The migration is done and ECS image {export.ImageId} is Available in {export.RegionId}, but its test launch was refused: {e.Message}{(e.RequestId is null ? "" : $" (RequestId {e.RequestId})")}. Check instanceType, vSwitchId and securityGroupId (or the launch template) and launch the image yourself.");
        }
    }

    private static ExportPlan Nothing => new(null, [], 0, null, null);

    private static ExportStepResult Ok => new(null, null);

    private static ExportPlan Failed(string code, string message) => new(null, [], 0, code, message);

    private static int PartCount(CloudExportDisk disk) => checked((int)((disk.SizeBytes + disk.PartSize - 1) / disk.PartSize));

    private static long PartLength(CloudExportDisk disk, int number) => Math.Min(disk.PartSize, disk.SizeBytes - ((number - 1) * disk.PartSize));

    private static CloudObject Target(CloudExport export, CloudExportDisk disk) => new(export.RegionId, disk.Bucket, disk.Key);

    private static string Code(CloudRequestException e) => ErrorCodes.AlibabaPrefix + e.Code;

    private string Explain(CloudRequestException e, ReplicationJob job, CloudExportDisk? disk) => cloud.Explain(e, job.RegionId ?? "", disk?.Bucket ?? cloud.Bucket);

    private async Task<string> StartUploadAsync(string jobId, int round, CloudExportDisk disk)
    {
        CloudExport export = await ExportOfAsync(jobId, round);
        string uploadId = await cloud.StartUploadAsync(Target(export, disk));
        string? kept = null;
        await UpdateExportAsync(jobId, round, e =>
        {
            CloudExportDisk d = e.Disks.First(x => x.Index == disk.Index);
            d.UploadId ??= uploadId;
            kept = d.UploadId;
        });
        if (kept != uploadId)
        {
            // Another attempt of this step recorded its upload first: ours must not be left half-made.
            await cloud.AbortUploadAsync(Target(export, disk), uploadId);
        }

        return kept!;
    }

    /// <summary>An upload OSS no longer knows whose object is there whole: an earlier attempt completed it and died before recording that.</summary>
    private async Task<bool> CompletedEarlierAsync(CloudObject target, string uploadId, CloudExportDisk disk)
    {
        try
        {
            await cloud.ListPartsAsync(target, uploadId, 1, 1);
            return false;
        }
        catch (CloudRequestException e) when (e.Code == "NoSuchUpload")
        {
            if (await cloud.GetObjectSizeAsync(target) == disk.SizeBytes)
            {
                return true;
            }

            throw;
        }
    }

    private async Task<CloudExport> ExportOfAsync(string jobId, int round) =>
        (await jobs.GetAsync(jobId))?.Value.ReplicationJobRuns.First(r => r.Round == round).Export
            ?? throw new InvalidOperationException($"Round {round} of {jobId} has no export.");

    private async Task UpdateExportAsync(string jobId, int round, Action<CloudExport> change) =>
        await jobs.UpdateAsync(jobId, j =>
        {
            if (j.ReplicationJobRuns.FirstOrDefault(r => r.Round == round)?.Export is not { } export)
            {
                return false;
            }

            change(export);
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        });

    /// <summary>
    /// A cleanup call (abort, delete, retention) that may fail without failing the job: once the image is Available the
    /// migration is done, and a failed cleanup must not make a restart run the round again. Logged for the operator.
    /// </summary>
    private async Task<bool> Tolerating(Func<Task> call, string jobId)
    {
        try
        {
            await call();
            return true;
        }
        catch (CloudRequestException e)
        {
            logger.LogWarning("Export of {JobId}: cleanup call failed ({Code}: {Message}); left as it is", jobId, e.Code, e.Message);
            return false;
        }
    }

    private void Log(string activity, string jobId) =>
        logger.LogInformation("Activity {Activity} for {JobId} on host {HostId}", activity, jobId, JobSteps.HostId);
}
