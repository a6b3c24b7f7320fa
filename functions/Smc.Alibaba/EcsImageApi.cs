using System.Globalization;
using System.Text.Json;
using Smc.Core.Ports;

namespace Smc.Alibaba;

/// <summary>A disk to import: where it is in OSS, its format (<c>RAW</c>, <c>VHD</c>) and size in GiB.</summary>
internal sealed record ImportDisk(string OssBucket, string OssObject, string Format, int SizeGiB);

/// <summary>What ImportImage needs (docs/alibaba-api.md §4.1); <see cref="Disks"/>[0] is the system disk.</summary>
internal sealed record ImportImageRequest(
    string RegionId,
    string ImageName,
    IReadOnlyList<ImportDisk> Disks,
    string ClientToken,
    string OSType = "linux",
    string Platform = "Others Linux",
    string Architecture = "x86_64",
    string BootMode = "BIOS",
    string? Description = null,
    IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>The started import: the image and its task.</summary>
internal sealed record ImportedImage(string ImageId, string TaskId);

/// <summary>The ECS image operations of a migration: import from OSS, poll, delete (retention), cancel, regions, a test launch.</summary>
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

        int n = 0;
        foreach ((string key, string value) in request.Tags ?? new Dictionary<string, string>())
        {
            n++; // Tag.N, N = 1..20 (docs/alibaba-api.md §4.1)
            parameters[$"Tag.{n}.Key"] = key;
            parameters[$"Tag.{n}.Value"] = value;
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
    public async Task<CloudImageState?> GetAsync(string regionId, string imageId, CancellationToken cancellationToken = default)
    {
        JsonElement answer = await ecs.CallAsync("DescribeImages", regionId, new Dictionary<string, string> { ["ImageId"] = imageId, ["Status"] = AllStatuses }, idempotent: true, cancellationToken);
        foreach (JsonElement image in answer.GetProperty("Images").GetProperty("Image").EnumerateArray())
        {
            if (image.GetProperty("ImageId").GetString() == imageId)
            {
                return new CloudImageState(imageId, image.GetProperty("Status").GetString()!, Percent(image.TryGetProperty("Progress", out JsonElement p) ? p.GetString() : null));
            }
        }

        return null;
    }

    /// <summary>The task's state and, when it failed, the first failed operation's code and message.</summary>
    public async Task<CloudTaskState> GetTaskAsync(string regionId, string taskId, CancellationToken cancellationToken = default)
    {
        JsonElement answer = await ecs.CallAsync("DescribeTaskAttribute", regionId, new Dictionary<string, string> { ["TaskId"] = taskId }, idempotent: true, cancellationToken);
        string? code = null, message = null;
        if (answer.TryGetProperty("OperationProgressSet", out JsonElement set) && set.TryGetProperty("OperationProgress", out JsonElement list))
        {
            foreach (JsonElement op in list.EnumerateArray())
            {
                if (op.TryGetProperty("ErrorCode", out JsonElement c) && c.GetString() is { Length: > 0 } errorCode)
                {
                    code = errorCode;
                    message = op.TryGetProperty("ErrorMsg", out JsonElement m) ? m.GetString() : null;
                    break;
                }
            }
        }

        return new CloudTaskState(taskId, answer.GetProperty("TaskStatus").GetString()!, Percent(answer.TryGetProperty("TaskProcess", out JsonElement p) ? p.GetString() : null), code, message);
    }

    /// <summary>The region's ImportImage tasks among <paramref name="taskIds"/> (DescribeTasks, at most 100 ids).</summary>
    public async Task<List<CloudTaskState>> ListImportTasksAsync(string regionId, IReadOnlyCollection<string> taskIds, CancellationToken cancellationToken = default)
    {
        JsonElement answer = await ecs.CallAsync("DescribeTasks", regionId, new Dictionary<string, string>
        {
            ["TaskIds"] = string.Join(',', taskIds),
            ["TaskAction"] = "ImportImage",
            ["PageSize"] = "100",
        }, idempotent: true, cancellationToken);
        var tasks = new List<CloudTaskState>();
        if (answer.TryGetProperty("TaskSet", out JsonElement set) && set.TryGetProperty("Task", out JsonElement list))
        {
            foreach (JsonElement t in list.EnumerateArray())
            {
                tasks.Add(new CloudTaskState(t.GetProperty("TaskId").GetString()!, t.GetProperty("TaskStatus").GetString()!, 0, null, null));
            }
        }

        return tasks;
    }

    /// <summary>The region ids ECS offers (DescribeRegions).</summary>
    public async Task<List<string>> ListRegionsAsync(string regionId, CancellationToken cancellationToken = default)
    {
        JsonElement answer = await ecs.CallAsync("DescribeRegions", regionId, new Dictionary<string, string>(), idempotent: true, cancellationToken);
        return [.. answer.GetProperty("Regions").GetProperty("Region").EnumerateArray().Select(r => r.GetProperty("RegionId").GetString()!)];
    }

    /// <summary>Starts one pay-as-you-go instance from an image, without a public address; the ClientToken makes a retry the same instance.</summary>
    public async Task<string> RunInstanceAsync(CloudLaunchRequest request, CancellationToken cancellationToken = default)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ImageId"] = request.ImageId,
            ["Amount"] = "1",
            ["ClientToken"] = request.ClientToken,
            ["InstanceChargeType"] = "PostPaid",
            ["InternetMaxBandwidthOut"] = "0",
        };
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parameters[name] = value;
            }
        }

        Add("InstanceName", request.InstanceName);
        Add("InstanceType", request.InstanceType);
        Add("VSwitchId", request.VSwitchId);
        Add("SecurityGroupId", request.SecurityGroupId);
        Add("LaunchTemplateId", request.LaunchTemplateId);
        Add("LaunchTemplateVersion", request.LaunchTemplateVersion);
        JsonElement answer = await ecs.CallAsync("RunInstances", request.RegionId, parameters, idempotent: false, cancellationToken);
        return answer.GetProperty("InstanceIdSets").GetProperty("InstanceIdSet").EnumerateArray().First().GetString()!;
    }

    private static int Percent(string? text) =>
        int.TryParse((text ?? "").TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out int percent) ? percent : 0;

    public async Task DeleteAsync(string regionId, string imageId, CancellationToken cancellationToken = default) =>
        await ecs.CallAsync("DeleteImage", regionId, new Dictionary<string, string> { ["ImageId"] = imageId }, idempotent: false, cancellationToken);

    public async Task CancelImportAsync(string regionId, string taskId, CancellationToken cancellationToken = default) =>
        await ecs.CallAsync("CancelTask", regionId, new Dictionary<string, string> { ["TaskId"] = taskId }, idempotent: false, cancellationToken);
}
