using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The second half of an export of provider <c>alibaba</c>: ImportImage of the uploaded disks with a ClientToken, polled
/// until Available or CreateFailed; the export's end (cleanup and ECS retention, or the unfinished uploads aborted); and
/// the finishing job's test launch. Every step is idempotent. Errors the operator must fix come back as
/// <c>Alibaba.*</c> codes with what to do; they are never retried.
/// </summary>
public sealed class EcsImportSteps(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    ImageService imageService,
    ICloudImages cloud,
    CloudExportRecords records,
    CloudExportCleanup cleanup,
    TimeProvider clock,
    ILogger<EcsImportSteps> logger)
{
    private const string EfiSystemPartition = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

    /// <summary>Starts ImportImage for the round's uploaded disks (once: the ClientToken makes a retried call the same import).</summary>
    public async Task<ExportStepResult> StartImportAsync(ExportInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.StartImportActivity, input.JobId, JobSteps.HostId);
        int round = input.Round ?? throw new ArgumentException("A round is required.", nameof(input));
        ReplicationJob job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        CloudExport export = job.ReplicationJobRuns.First(r => r.Round == round).Export ?? throw new InvalidOperationException("No export.");
        if (export.ImageId is not null)
        {
            return Ok;
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId, cancellationToken))?.Value;
        LocalImage image = await imageService.GetAsync(job.ReplicationJobRuns.First(r => r.Round == round).ImageId!, cancellationToken: cancellationToken);
        bool windows = string.Equals(source?.Platform ?? image.Platform, "Windows", StringComparison.OrdinalIgnoreCase);
        bool uefi = image.Disks.FirstOrDefault(d => d.Index == 0)?.Parts.Any(p => string.Equals(p.TypeId, EfiSystemPartition, StringComparison.OrdinalIgnoreCase)) == true;
        string architecture = cloud.Architecture(source?.Architecture ?? image.Architecture);
        var request = new CloudImportRequest(
            export.RegionId,
            cloud.ImageName(JobNaming.ImageName(job, round), $"-r{round}" + (export.ImportAttempt > 0 ? $"-a{export.ImportAttempt}" : "")),
            [.. export.Disks.OrderBy(d => d.Index).Select(d => new CloudImportDisk(CloudExports.Target(export, d), "RAW", d.SizeBytes))],
            ClientToken: $"{job.JobId}-r{round}-a{export.ImportAttempt}",
            OSType: windows ? "windows" : "linux",
            // What the image's own bytes say (boot readiness: os-release, the partition table), else the source's report.
            Platform: windows ? "Windows Server 2019" : image.BootReadiness?.Platform ?? "Others Linux",
            Architecture: architecture,
            BootMode: image.BootReadiness?.BootMode ?? (uefi || architecture == "arm64" ? "UEFI" : "BIOS"),
            Description: $"SMC Serverless: job {job.JobId}, round {round}, source {job.SourceId}",
            Tags: Tags.Merge(source?.Tags, job.Tags));
        try
        {
            CloudImport started = await cloud.ImportAsync(request, cancellationToken);
            await records.UpdateExportAsync(input.JobId, round, e =>
            {
                e.ImageId = started.ImageId;
                e.TaskId = started.TaskId;
                e.Status = CloudExportStatus.Importing;
            }, cancellationToken);
            logger.ImportStarted(job.JobId, round, started.ImageId, started.TaskId, export.RegionId);
            return Ok;
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            // The next attempt (after the operator fixed the cause) is a new import with its own ClientToken.
            await records.UpdateExportAsync(input.JobId, round, x => x.ImportAttempt++, cancellationToken);
            return new ExportStepResult(CloudExports.Code(e), CloudExports.Explain(cloud, e, job, null));
        }
    }

    /// <summary>Polls the import: Creating (with progress), Available, or CreateFailed as an error that says what to do.</summary>
    public async Task<ImportCheck> CheckImportAsync(ExportInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.CheckImportActivity, input.JobId, JobSteps.HostId);
        int round = input.Round ?? throw new ArgumentException("A round is required.", nameof(input));
        ReplicationJob job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        CloudExport export = job.ReplicationJobRuns.First(r => r.Round == round).Export ?? throw new InvalidOperationException("No export.");
        if (export.Status == CloudExportStatus.Available)
        {
            return new ImportCheck(CloudExportStatus.Available, 100, null, null);
        }

        string imageId = export.ImageId ?? throw new InvalidOperationException("The import has not started.");
        try
        {
            CloudImageState? state = await cloud.GetImageAsync(export.RegionId, imageId, cancellationToken);
            switch (state?.Status)
            {
                case "Available":
                    await records.UpdateExportAsync(input.JobId, round, e =>
                    {
                        e.Status = CloudExportStatus.Available;
                        e.ImportProgress = 100;
                        e.AvailableAt = clock.GetUtcNow();
                    }, cancellationToken);
                    logger.ImportAvailable(job.JobId, round, imageId);
                    return new ImportCheck(CloudExportStatus.Available, 100, null, null);
                case "Creating" or "Waiting":
                    await records.UpdateExportAsync(input.JobId, round, e => e.ImportProgress = state.ProgressPercent, cancellationToken);
                    return new ImportCheck("Creating", state.ProgressPercent, null, null);
                default:
                    string status = state?.Status ?? "gone";
                    string why = "";
                    if (export.TaskId is { } taskId)
                    {
                        try
                        {
                            CloudTaskState task = await cloud.GetImportTaskAsync(export.RegionId, taskId, cancellationToken);
                            why = task.ErrorCode is null ? "" : $" ECS says: {task.ErrorCode}: {task.ErrorMessage}.";
                        }
                        catch (CloudRequestException)
                        {
                            // The reason is a courtesy: the failure itself is known.
                        }
                    }

                    // CreateFailed (or gone): the next attempt imports anew, with its own ClientToken; the disks stay in OSS.
                    await records.UpdateExportAsync(input.JobId, round, e =>
                    {
                        e.ImportAttempt++;
                        e.ImageId = null;
                        e.TaskId = null;
                    }, cancellationToken);

                    return new ImportCheck(status, 0, ErrorCodes.AlibabaImportFailed,
                        $"ECS could not import image {imageId} in {export.RegionId} (status {status}).{why} Check that the source's system disk boots as an ECS instance expects (virtio drivers, fstab by UUID), then start the job again: the disks stay in OSS, so only the import is retried.");
            }
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new ImportCheck("Error", 0, CloudExports.Code(e), CloudExports.Explain(cloud, e, job, null));
        }
    }

    /// <summary>
    /// Ends an export. Succeeded: the disk objects are deleted (unless configured to stay) and ECS images of rounds beyond
    /// maxNumberOfImageToKeep are deleted. Failed: unfinished multipart uploads are aborted, so nothing is left half-made.
    /// </summary>
    public async Task<bool> EndAsync(EndExportInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.EndExportActivity, input.JobId, JobSteps.HostId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value;
        CloudExport? export = job?.ReplicationJobRuns.FirstOrDefault(r => r.Round == input.Round)?.Export;
        if (job is null || export is null || !cloud.IsConfigured)
        {
            return false;
        }

        if (!input.Succeeded)
        {
            IReadOnlySet<string> aborted = await cleanup.AbortAsync(job.JobId, export, forGood: false, cancellationToken);

            // An upload whose abort was refused (a revoked key) keeps its id: a restart resumes it or aborts it then.
            await records.UpdateExportAsync(input.JobId, input.Round, e =>
            {
                e.Status = CloudExportStatus.Failed;
                foreach (CloudExportDisk d in e.Disks.Where(d => d.UploadId is not null && aborted.Contains(d.UploadId)))
                {
                    d.UploadId = null;
                    d.UploadedBytes = 0;
                }
            }, cancellationToken);
            return true;
        }

        await jobs.UpdateAsync(input.JobId, j =>
        {
            j.BusinessStatus = BusinessStatus.Cleaning;
            return true;
        }, cancellationToken: cancellationToken);
        if (!cloud.KeepObjects)
        {
            foreach (CloudExportDisk disk in export.Disks)
            {
                await cleanup.TolerateAsync(ct => cloud.DeleteObjectAsync(CloudExports.Target(export, disk), ct), job.JobId, cancellationToken);
            }
        }

        // Retention: the newest maxNumberOfImageToKeep ECS images of the job stay.
        foreach (ReplicationJobRun old in job.ReplicationJobRuns.Where(r => r.Export is { Status: CloudExportStatus.Available, ImageId: not null })
                     .OrderByDescending(r => r.Round).Skip(Math.Max(1, job.MaxNumberOfImageToKeep)))
        {
            CloudExport e = old.Export!;
            if (await cleanup.TolerateAsync(ct => cloud.DeleteImageAsync(e.RegionId, e.ImageId!, ct), job.JobId, cancellationToken))
            {
                await records.UpdateExportAsync(input.JobId, old.Round, x => x.Status = CloudExportStatus.Deleted, cancellationToken);
                logger.CloudImageDeleted(job.JobId, e.ImageId, old.Round, job.MaxNumberOfImageToKeep);
            }
        }

        return true;
    }

    /// <summary>
    /// The test launch of a finishing job that asked for one: one instance from the newest ECS image (RunInstances with a
    /// ClientToken, so a retry is the same instance). A refusal doesn't undo the migration: it comes back as a code and
    /// a message for the finished job.
    /// </summary>
    public async Task<ExportStepResult> LaunchAsync(string jobId, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.LaunchInstanceActivity, jobId, JobSteps.HostId);
        ReplicationJob? job = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        CloudExport? export = job?.ReplicationJobRuns.Where(r => r.Export is { Status: CloudExportStatus.Available, ImageId: not null }).MaxBy(r => r.Round)?.Export;
        if (job is null || !job.WantsTestLaunch || job.InstanceId is not null || export is null)
        {
            return Ok;
        }

        try
        {
            string instanceId = await cloud.LaunchInstanceAsync(new CloudLaunchRequest(export.RegionId, export.ImageId!, $"{jobId}-launch",
                cloud.ImageName(JobNaming.ImageName(job, job.ReplicationJobRuns.Count > 0 ? job.ReplicationJobRuns.Max(r => r.Round) : 0), "-test"), job.InstanceType, job.VSwitchId, job.SecurityGroupId, job.LaunchTemplateId, job.LaunchTemplateVersion), cancellationToken);
            await jobs.UpdateAsync(jobId, j =>
            {
                j.InstanceId = instanceId;
                j.UpdatedAt = clock.GetUtcNow();
                return true;
            }, cancellationToken: cancellationToken);
            logger.TestLaunched(jobId, instanceId, export.ImageId, export.RegionId);
            return Ok;
        }
        catch (CloudRequestException e)
        {
            // Also after the client's retries of a transient error: the migration is done, the launch is reported.
            return new ExportStepResult(ErrorCodes.AlibabaLaunchPrefix + e.Code,
                $"The migration is done and ECS image {export.ImageId} is Available in {export.RegionId}, but its test launch was refused: {e.Message}{(e.RequestId is null ? "" : $" (RequestId {e.RequestId})")}. Check instanceType, vSwitchId and securityGroupId (or the launch template) and launch the image yourself.");
        }
    }

    private static ExportStepResult Ok => new(null, null);
}
