using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The one routine that takes an export down, used when an export fails (<see cref="EcsImportSteps.EndAsync"/>) and when
/// its job is deleted (<see cref="ReplicationJobService"/>). Every call is best effort: once an image is Available the
/// migration is done, and a refused cleanup must neither fail the job nor make a restart run the round again. A refusal
/// is logged and left; an OSS lifecycle rule for incomplete uploads is the backstop (docs/adr/0006).
/// </summary>
public sealed class CloudExportCleanup(ICloudImages cloud, ILogger<CloudExportCleanup> logger)
{
    /// <summary>
    /// Aborts the export's unfinished multipart uploads. <paramref name="forGood"/> (the job is being deleted): also
    /// cancels a running import and deletes whole disks kept for a retried import that will not come (ECS images the
    /// job made stay: they are the operator's). Returns the upload ids OSS aborted; the others keep their ids, so a
    /// restart resumes or aborts them then.
    /// </summary>
    public async Task<IReadOnlySet<string>> AbortAsync(string jobId, CloudExport export, bool forGood, CancellationToken cancellationToken)
    {
        var aborted = new HashSet<string>(StringComparer.Ordinal);
        if (forGood && export is { Status: CloudExportStatus.Importing, TaskId: { } taskId })
        {
            await TolerateAsync(ct => cloud.CancelImportAsync(export.RegionId, taskId, ct), jobId, cancellationToken);
        }

        foreach (CloudExportDisk disk in export.Disks)
        {
            CloudObject target = CloudExports.Target(export, disk);
            if (disk.UploadId is { } uploadId)
            {
                if (await TolerateAsync(ct => cloud.AbortUploadAsync(target, uploadId, ct), jobId, cancellationToken))
                {
                    aborted.Add(uploadId);
                }
            }
            else if (forGood && disk.Uploaded && export.Status != CloudExportStatus.Available && !cloud.KeepObjects)
            {
                await TolerateAsync(ct => cloud.DeleteObjectAsync(target, ct), jobId, cancellationToken);
            }
        }

        return aborted;
    }

    /// <summary>Runs a cleanup call; a cloud refusal is logged (with the job) and comes back as false.</summary>
    public async Task<bool> TolerateAsync(Func<CancellationToken, Task> call, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await call(cancellationToken);
            return true;
        }
        catch (CloudRequestException e)
        {
            logger.CloudCleanupFailed(jobId, e.Code, e.Message);
            return false;
        }
    }
}
