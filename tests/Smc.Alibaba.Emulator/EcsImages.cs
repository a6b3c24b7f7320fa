using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Smc.Alibaba.Emulator;

/// <summary>
/// The emulated ECS image import (docs/alibaba-api.md §4, §8.5): ImportImage makes an image <c>Creating</c> and a
/// task <c>Processing</c>; each poll (DescribeImages, DescribeTasks, DescribeTaskAttribute) advances the import by one
/// step until it is <c>Available</c>/<c>Finished</c> — or <c>CreateFailed</c>/<c>Failed</c> when the test asks for it.
/// ClientToken makes ImportImage idempotent; deleting an importing image is refused (<c>ImageIsImporting</c>).
/// </summary>
internal sealed partial class EcsImages(EmulatorState state)
{
    private readonly ConcurrentDictionary<string, Image> _images = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Hash, string ImageId)> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _launches = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public IReadOnlyCollection<string> ImageIds => [.. _images.Keys];

    public IReadOnlyList<(string Key, string Value)> TagsOf(string imageId) => _images.TryGetValue(imageId, out Image? i) ? i.Tags : [];

    public object ImportImage(Dictionary<string, string> p)
    {
        string region = Required(p, "RegionId");
        string bucket = Required(p, "DiskDeviceMapping.1.OSSBucket"), key = Required(p, "DiskDeviceMapping.1.OSSObject");
        string name = p.GetValueOrDefault("ImageName") ?? $"import-{Guid.NewGuid():N}"[..20];
        if (!ImageName().IsMatch(name) || name.StartsWith("aliyun", StringComparison.Ordinal) || name.StartsWith("acs:", StringComparison.Ordinal))
        {
            throw new EcsError(400, "InvalidImageName.Malformed", "The specified image name is wrongly formed.");
        }

        List<(string Key, string Value)> tags = Tags(p);
        string hash = string.Join("&", p.Where(kv => kv.Key != "ClientToken").OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
        lock (_gate)
        {
            if (p.TryGetValue("ClientToken", out string? token))
            {
                if (_tokens.TryGetValue(token, out var earlier))
                {
                    return earlier.Hash == hash
                        ? new { RequestId = Emulated.RequestId(), ImageId = earlier.ImageId, TaskId = _images[earlier.ImageId].TaskId, RegionId = region }
                        : throw new EcsError(400, "IdempotentParameterMismatch", "The request uses the same client token as a previous, but non-identical request.");
                }
            }

            if (!state.RamRoleAuthorized)
            {
                throw new EcsError(403, "NoSetRoletoECSServiceAcount", "You have not authorized ECS to access your OSS resources. Create the role AliyunECSImageImportDefaultRole.");
            }

            if (!state.OssBuckets.TryGetValue(bucket, out string? bucketRegion))
            {
                throw new EcsError(400, "InvalidOSSBucket.NotFound", $"The specified OSS bucket {bucket} does not exist.");
            }

            if (bucketRegion != region)
            {
                throw new EcsError(400, "InvalidOSSBucket.NotFound", $"The OSS bucket {bucket} is in {bucketRegion}, not in {region}.");
            }

            if (!state.OssObjects.ContainsKey($"{bucket}/{key}"))
            {
                throw new EcsError(400, "InvalidOSSObject.NotFound", $"The specified OSS object {key} does not exist.");
            }

            if (_images.Values.Any(i => i.Name == name && i.Status != "CreateFailed"))
            {
                throw new EcsError(400, "InvalidImageName.Duplicated", "The specified image name already exists.");
            }

            var image = new Image($"m-{Guid.NewGuid():N}"[..22], $"t-{Guid.NewGuid():N}"[..22], name, region, state.Clock.GetUtcNow())
            {
                Tags = tags,
                Fails = state.FailImports,
                Format = p.GetValueOrDefault("DiskDeviceMapping.1.Format") ?? "",
                Object = $"{bucket}/{key}",
            };
            _images[image.Id] = image;
            if (p.TryGetValue("ClientToken", out string? t))
            {
                _tokens[t] = (hash, image.Id);
            }

            return new { RequestId = Emulated.RequestId(), ImageId = image.Id, TaskId = image.TaskId, RegionId = region };
        }
    }

    public object DescribeImages(Dictionary<string, string> p)
    {
        string region = Required(p, "RegionId");
        string[] ids = (p.GetValueOrDefault("ImageId") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string[] statuses = (p.GetValueOrDefault("Status") ?? "Available").Split(',', StringSplitOptions.RemoveEmptyEntries); // the API's default
        var found = _images.Values.Where(i => i.Region == region && (ids.Length == 0 || ids.Contains(i.Id))).Select(Advance)
            .Where(i => statuses.Contains(i.Status)).ToList();
        return new
        {
            RequestId = Emulated.RequestId(),
            RegionId = region,
            PageNumber = 1,
            PageSize = 10,
            TotalCount = found.Count,
            Images = new
            {
                Image = found.Select(i => new
                {
                    ImageId = i.Id,
                    ImageName = i.Name,
                    Status = i.Status,
                    Progress = i.Progress.ToString(CultureInfo.InvariantCulture) + "%",
                    CreationTime = i.Created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    Size = 40,
                    OSType = "linux",
                    ImageOwnerAlias = "self",
                    IsSelfShared = "False",
                    Tags = new { Tag = i.Tags.Select(t => new { TagKey = t.Key, TagValue = t.Value }) },
                    DiskDeviceMappings = new { DiskDeviceMapping = new[] { new { Type = "system", Format = i.Format, ImportOSSBucket = i.Object.Split('/')[0], ImportOSSObject = i.Object[(i.Object.IndexOf('/') + 1)..], Size = "40" } } },
                }),
            },
        };
    }

    public object DescribeTaskAttribute(Dictionary<string, string> p)
    {
        string taskId = Required(p, "TaskId");
        Image image = _images.Values.FirstOrDefault(i => i.TaskId == taskId) ?? throw new EcsError(404, "InvalidTaskId.NotFound", "The specified task does not exist.");
        Advance(image);
        return new
        {
            RequestId = Emulated.RequestId(),
            RegionId = image.Region,
            TaskId = image.TaskId,
            TaskAction = "ImportImage",
            TaskStatus = image.TaskStatus,
            TaskProcess = image.Progress.ToString(CultureInfo.InvariantCulture) + "%",
            SupportCancel = image.TaskStatus == "Processing" ? "true" : "false",
            OperationProgressSet = new
            {
                OperationProgress = image.Status == "CreateFailed"
                    ? new[] { new { OperationStatus = "Failed", ErrorCode = "InvalidImage.Unsupported", ErrorMsg = "The image file could not be read as a disk." } }
                    : [],
            },
        };
    }

    public object DescribeTasks(Dictionary<string, string> p)
    {
        string region = Required(p, "RegionId");
        string[] ids = (p.GetValueOrDefault("TaskIds") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string? action = p.GetValueOrDefault("TaskAction");
        var found = _images.Values.Where(i => i.Region == region && (ids.Length == 0 || ids.Contains(i.TaskId)) && (action is null or "ImportImage")).ToList();
        return new
        {
            RequestId = Emulated.RequestId(),
            RegionId = region,
            PageNumber = 1,
            PageSize = 100,
            TotalCount = found.Count,
            TaskSet = new
            {
                Task = found.Select(i => new
                {
                    TaskId = i.TaskId,
                    TaskAction = "ImportImage",
                    TaskStatus = i.TaskStatus,
                    CreationTime = i.Created.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
                    SupportCancel = i.TaskStatus == "Processing" ? "true" : "false",
                    ResourceId = i.Id,
                }),
            },
        };
    }

    /// <summary>RunInstances (docs/alibaba-api.md §4.5): one instance from an Available image, idempotent by ClientToken.</summary>
    public object RunInstances(Dictionary<string, string> p)
    {
        string region = Required(p, "RegionId");
        string imageId = Required(p, "ImageId");
        lock (_gate)
        {
            if (p.TryGetValue("ClientToken", out string? token) && _launches.TryGetValue(token, out string? earlier))
            {
                return Launched(earlier);
            }

            Image image = _images.GetValueOrDefault(imageId) is { } i && i.Region == region
                ? i
                : throw new EcsError(404, "InvalidImageId.NotFound", "The specified ImageId does not exist.");
            if (image.Status != "Available")
            {
                throw new EcsError(403, "IncorrectImageStatus", "The specified image is not available.");
            }

            if (!p.ContainsKey("LaunchTemplateId"))
            {
                Required(p, "InstanceType");
                Required(p, "VSwitchId");
                Required(p, "SecurityGroupId");
            }

            string id = $"i-{Guid.NewGuid():N}"[..22];
            state.Instances[id] = imageId;
            if (token is not null)
            {
                _launches[token] = id;
            }

            return Launched(id);
        }

        static object Launched(string id) => new { RequestId = Emulated.RequestId(), OrderId = "2100" + id[2..10], TradePrice = 0.0, InstanceIdSets = new { InstanceIdSet = new[] { id } } };
    }

    public object DeleteImage(Dictionary<string, string> p)
    {
        string id = Required(p, "ImageId");
        Image image = _images.GetValueOrDefault(id) ?? throw new EcsError(404, "InvalidImageId.NotFound", "The specified image does not exist.");
        if (image.Status == "Creating")
        {
            throw new EcsError(403, "ImageIsImporting", "The specified image is being imported; cancel the task first.");
        }

        _images.TryRemove(id, out _);
        return new { RequestId = Emulated.RequestId() };
    }

    public object CancelTask(Dictionary<string, string> p)
    {
        string taskId = Required(p, "TaskId");
        Image image = _images.Values.FirstOrDefault(i => i.TaskId == taskId) ?? throw new EcsError(404, "InvalidTaskId.NotFound", "The specified task does not exist.");
        if (image.TaskStatus == "Processing")
        {
            image.TaskStatus = "Cancelled";
            image.Status = "CreateFailed";
        }

        return new { RequestId = Emulated.RequestId() };
    }

    /// <summary>One step of the import per poll: progress in equal steps, then the end state.</summary>
    private Image Advance(Image image)
    {
        lock (_gate)
        {
            if (image.Status == "Creating")
            {
                image.Polls++;
                image.Progress = Math.Min(100, image.Polls * 100 / Math.Max(1, state.ImportPolls));
                if (image.Polls >= state.ImportPolls)
                {
                    (image.Status, image.TaskStatus) = image.Fails ? ("CreateFailed", "Failed") : ("Available", "Finished");
                }
            }

            return image;
        }
    }

    private static string Required(Dictionary<string, string> p, string name) =>
        p.TryGetValue(name, out string? v) && v.Length > 0 ? v : throw new EcsError(400, "MissingParameter", $"The input parameter \"{name}\" that is mandatory for processing this request is not supplied.");

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9.:_-]{1,127}$")]
    private static partial Regex ImageName();

    /// <summary>
    /// <c>Tag.N.Key</c>/<c>Tag.N.Value</c>, N = 1..20 as ECS takes them: a key of 1–128 characters not starting with
    /// <c>aliyun</c> or <c>acs:</c>, no <c>http://</c>/<c>https://</c> in key or value, a value of at most 128.
    /// </summary>
    private static List<(string Key, string Value)> Tags(Dictionary<string, string> p)
    {
        var tags = new List<(string, string)>();
        foreach (string name in p.Keys.Where(k => k.StartsWith("Tag.", StringComparison.Ordinal) && k.EndsWith(".Key", StringComparison.Ordinal)))
        {
            if (!int.TryParse(name["Tag.".Length..^".Key".Length], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 20)
            {
                throw new EcsError(400, "InvalidTagKey.Malformed", $"{name}: N must be from 1 to 20.");
            }

            string key = p[name], value = p.GetValueOrDefault($"Tag.{n}.Value") ?? "";
            if (key.Length is 0 or > 128 || key.StartsWith("aliyun", StringComparison.Ordinal) || key.StartsWith("acs:", StringComparison.Ordinal) || key.Contains("http://", StringComparison.Ordinal) || key.Contains("https://", StringComparison.Ordinal))
            {
                throw new EcsError(400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is invalid.");
            }

            if (value.Length > 128 || value.Contains("http://", StringComparison.Ordinal) || value.Contains("https://", StringComparison.Ordinal))
            {
                throw new EcsError(400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is invalid.");
            }

            tags.Add((key, value));
        }

        return tags;
    }

    private sealed class Image(string id, string taskId, string name, string region, DateTimeOffset created)
    {
        public List<(string Key, string Value)> Tags { get; init; } = [];

        public string Id { get; } = id;

        public string TaskId { get; } = taskId;

        public string Name { get; } = name;

        public string Region { get; } = region;

        public DateTimeOffset Created { get; } = created;

        public string Status { get; set; } = "Creating";

        public string TaskStatus { get; set; } = "Processing";

        public int Progress { get; set; }

        public int Polls { get; set; }

        public bool Fails { get; init; }

        public string Format { get; init; } = "";

        public string Object { get; init; } = "";
    }
}

/// <summary>An ECS error answer raised by an operation.</summary>
internal sealed class EcsError(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

internal static class Emulated
{
    public static string RequestId() => Guid.NewGuid().ToString("D").ToUpperInvariant();
}
