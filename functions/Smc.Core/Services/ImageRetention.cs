using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// Local image retention: the newest <c>maxNumberOfImageToKeep</c> images of a job stay, and kept packs no image of the
/// job still uses are deleted.
/// </summary>
public sealed class ImageRetention(IRecordStore<LocalImage> images, IImageStore imageStore)
{
    /// <summary>Keeps the job's newest images, deletes the rest, then collects packs no kept image uses.</summary>
    public async Task ApplyAsync(ReplicationJob job, CancellationToken cancellationToken)
    {
        var mine = new List<LocalImage>();
        await foreach (Stored<LocalImage> image in images.ListAsync(cancellationToken))
        {
            if (image.Value.JobId == job.JobId && image.Value.Status == "Available")
            {
                mine.Add(image.Value);
            }
        }

        foreach (LocalImage old in mine.OrderByDescending(i => i.Round).Skip(Math.Max(1, job.MaxNumberOfImageToKeep)))
        {
            await imageStore.DeleteAsync(old.ImageId, cancellationToken);
            await images.DeleteAsync(old.ImageId, cancellationToken: cancellationToken);
        }

        await CollectPacksAsync(job.JobId, cancellationToken);
    }

    /// <summary>
    /// Deletes the job's kept packs that no image of the job still uses. Runs where no round of the job is being
    /// assembled: after an image is finalized (its own packs are in its maps by then) and after a refused round.
    /// </summary>
    public async Task CollectPacksAsync(string jobId, CancellationToken cancellationToken)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        await foreach (Stored<LocalImage> image in images.ListAsync(cancellationToken))
        {
            if (image.Value.JobId != jobId)
            {
                continue;
            }

            foreach (ImageDisk disk in image.Value.Disks)
            {
                // Read an extent at a time: a set of packs, not a list of chunks, is what stays.
                await using Stream? document = await imageStore.OpenDocumentAsync(image.Value.ImageId, ImageDiskMap.DocumentName(disk.Index), cancellationToken);
                if (document is not null)
                {
                    await ImageDiskMap.ReadAsync(document, e => keep.Add($"{e.Round}/{e.Pack}"), cancellationToken);
                }
            }
        }

        await imageStore.DeletePacksAsync(jobId, keep, cancellationToken);
    }
}
