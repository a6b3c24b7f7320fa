using System.Globalization;
using System.Text.Json;

namespace Smc.Alibaba;

/// <summary>A disk to import: where it is in OSS, its format (<c>RAW</c>, <c>VHD</c>) and size in GiB.</summary>
internal sealed record ImportDisk(string OssBucket, string OssObject, string Format, int SizeGiB);

/// <summary>What ImportImage needs (shared/docs/alibaba-api.md §4.1); <see cref="Disks"/>[0] is the system disk.</summary>
internal sealed record ImportImageRequest(
    string RegionId,
    string ImageName,
    IReadOnlyList<ImportDisk> Disks,
    string ClientToken,
    string OSType = "linux",
    string Platform = "Others Linux",
    string Architecture = "x86_64",
    string BootMode = "BIOS",
    string? Description = null);

/// <summary>The started import: the image and its task.</summary>
internal sealed record ImportedImage(string ImageId, string TaskId);

/// <summary>An ECS image as DescribeImages shows it: <c>Creating</c> (with progress), <c>Available</c>, <c>CreateFailed</c>…</summary>
internal sealed record EcsImage(string ImageId, string Status, int ProgressPercent);

/// <summary>The ECS image operations of a migration: import from OSS, poll, delete (retention), cancel.</summary>
internal sealed class EcsImageApi(EcsClient ecs)
{
    /// <summary>Every status, so a Creating or failed image is seen too (DescribeImages shows only Available by default).</summary>
    private const string AllStatuses = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

    /// <summary>Starts the import. The ClientToken makes it idempotent, so a retry after a server error imports once.</summary>
    public async Task<ImportedImage> ImportAsync(ImportImageRequest request, CancellationToken cancellationToken = default)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ImageName"] = request.ImageName,
            ["OSType"] = request.OSType,
            ["Platform"] = request.Platform,
            ["Architecture"] = request.Architecture,
            ["BootMode"] = request.BootMode,
            ["ClientToken"] = request.ClientToken,
        };
        if (request.Description is not null)
        {
            parameters["Description"] = request.Description;
        }

        for (int i = 0; i < request.Disks.Count; i++)
        {
            string prefix = $"DiskDeviceMapping.{i + 1}."; // 1-based: 1 is the system disk
            ImportDisk disk = request.Disks[i];
            parameters[prefix + "OSSBucket"] = disk.OssBucket;
            parameters[prefix + "OSSObject"] = disk.OssObject;
            parameters[prefix + "Format"] = disk.Format;
            parameters[prefix + "DiskImageSize"] = disk.SizeGiB.ToString(CultureInfo.InvariantCulture);
        }

        JsonElement answer = await ecs.CallAsync("ImportImage", request.RegionId, parameters, idempotent: false, cancellationToken);
        string imageId = answer.GetProperty("ImageId").GetString()!;
        // The SDK's field is TaskId; older doc samples say ImportTaskId.
        string taskId = (answer.TryGetProperty("TaskId", out JsonElement t) ? t : answer.GetProperty("ImportTaskId")).GetString()!;
        return new ImportedImage(imageId, taskId);
    }

    /// <summary>The image in any status, or null when the region has no such image.</summary>
    public async Task<EcsImage?> GetAsync(string regionId, string imageId, CancellationToken cancellationToken = default)
    {
        JsonElement answer = await ecs.CallAsync("DescribeImages", regionId, new Dictionary<string, string> { ["ImageId"] = imageId, ["Status"] = AllStatuses }, idempotent: true, cancellationToken);
        foreach (JsonElement image in answer.GetProperty("Images").GetProperty("Image").EnumerateArray())
        {
            if (image.GetProperty("ImageId").GetString() == imageId)
            {
                string progress = image.TryGetProperty("Progress", out JsonElement p) ? p.GetString() ?? "" : "";
                return new EcsImage(imageId, image.GetProperty("Status").GetString()!,
                    int.TryParse(progress.TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out int percent) ? percent : 0);
            }
        }

        return null;
    }

    public async Task DeleteAsync(string regionId, string imageId, CancellationToken cancellationToken = default) =>
        await ecs.CallAsync("DeleteImage", regionId, new Dictionary<string, string> { ["ImageId"] = imageId }, idempotent: false, cancellationToken);

    public async Task CancelImportAsync(string regionId, string taskId, CancellationToken cancellationToken = default) =>
        await ecs.CallAsync("CancelTask", regionId, new Dictionary<string, string> { ["TaskId"] = taskId }, idempotent: false, cancellationToken);
}
