using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Services;

namespace Smc.Api.Compat;

/// <summary>
/// SMC's actions mapped onto the services: each reads SMC's parameters, calls what the REST route calls, and answers
/// with SMC's fields. States need no mapping: a job's <c>Status</c> and <c>BusinessStatus</c> and a source's
/// <c>State</c> are SMC's own values. Coverage per action and parameter: docs/smc-compat.md.
/// </summary>
internal static class SmcActions
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>The action's answer (without RequestId), or null when the action is not covered.</summary>
    public static async Task<JsonObject?> RunAsync(string action, SmcParameters p, IServiceProvider services, CancellationToken ct)
    {
        ReplicationJobService jobs = services.GetRequiredService<ReplicationJobService>();
        SourceServerService sources = services.GetRequiredService<SourceServerService>();
        switch (action)
        {
            case "CreateReplicationJob":
                CreatedJob created = await jobs.CreateAsync(CreateRequest(p, services.GetRequiredService<ICloudImages>()), ct);
                return new JsonObject { ["JobId"] = created.JobId };
            case "StartReplicationJob":
                await jobs.StartAsync(p.Required("JobId"), ct);
                return [];
            case "StopReplicationJob":
                await jobs.StopAsync(p.Required("JobId"), ct);
                return [];
            case "DeleteReplicationJob":
                await jobs.DeleteAsync(p.Required("JobId"), ct);
                return [];
            case "CutOverReplicationJob":
                await jobs.CutoverAsync(p.Required("JobId"), new CutoverRequest { SyncData = p.Bool("SyncData") ?? false }, ct);
                return [];
            case "ModifyReplicationJobAttribute":
                await jobs.PatchAsync(p.Required("JobId"), ModifyPatch(p), ct);
                return [];
            case "DescribeReplicationJobs":
                return await DescribeJobsAsync(p, jobs, ct);
            case "DescribeSourceServers":
                return await DescribeSourcesAsync(p, sources, ct);
            case "DeleteSourceServer":
                await sources.DeleteAsync(p.Required("SourceId"), ct);
                return [];
            case "ModifySourceServerAttribute":
                await sources.PatchAsync(p.Required("SourceId"), new PatchSourceServerRequest { Name = p.Str("Name"), Description = p.Str("Description") }, ct);
                return [];
            case "CreateAccessToken":
                CreatedAccessToken token = await services.GetRequiredService<AccessTokenService>().CreateAsync(new CreateAccessTokenRequest
                {
                    Name = p.Str("Name") ?? "smc-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
                    Count = p.Int("Count"),
                    TimeToLiveInDays = p.Int("TimeToLiveInDays"),
                }, ct);
                return new JsonObject { ["AccessTokenId"] = token.AccessTokenId, ["AccessTokenCode"] = token.AccessTokenCode };
            default:
                return null;
        }
    }

    /// <summary>SMC's CreateReplicationJob parameters as a create request (what this façade doesn't cover is refused by name).</summary>
    private static CreateReplicationJobRequest CreateRequest(SmcParameters p, ICloudImages cloud)
    {
        p.Refuse("SystemDiskPart", "DataDisk", "Disks", "NetMode", "VpcId", "InstanceRamRole", "LicenseType", "JobType", "InstanceId", "ResourceGroupId", "WorkgroupId");
        bool? runOnce = p.Bool("RunOnce");
        int? frequency = p.Int("Frequency");
        if (frequency is < 1 or > 168)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "Frequency is hours between incremental rounds: 1 to 168.");
        }

        string? region = p.Str("RegionId");
        return new CreateReplicationJobRequest
        {
            SourceId = p.Str("SourceId"),
            Name = p.Str("Name"),
            Description = p.Str("Description"),
            TargetType = p.Str("TargetType"),
            // SMC makes ECS images in RegionId: with an Alibaba account configured, so do we; without one, local images.
            ImageProvider = region is not null && cloud.IsConfigured ? ImageProvider.Alibaba : ImageProvider.Local,
            RegionId = region is not null && cloud.IsConfigured ? region : null,
            ImageName = p.Str("ImageName"),
            SystemDiskSize = p.Int("SystemDiskSize"),
            RunOnce = runOnce,
            SyncInterval = frequency is int hours ? $"PT{hours}H" : null,
            MaxNumberOfImageToKeep = p.Int("MaxNumberOfImageToKeep"),
            ScheduledStartTime = Time(p, "ScheduledStartTime"),
            ValidTime = Time(p, "ValidTime"),
            ReplicationParameters = Parameters(p.Str("ReplicationParameters")),
            ContainerNamespace = p.Str("ContainerNamespace"),
            ContainerRepository = p.Str("ContainerRepository"),
            ContainerTag = p.Str("ContainerTag"),
            LaunchTemplateId = p.Str("LaunchTemplateId"),
            LaunchTemplateVersion = p.Str("LaunchTemplateVersion"),
            InstanceType = p.Str("InstanceType"),
            VSwitchId = p.Str("VSwitchId"),
            ClientToken = p.Str("ClientToken"),
            Tags = p.Tags(),
        };
    }

    /// <summary>SMC's ReplicationParameters, a JSON string: <c>bandwidth_limit</c> (KB/s here), <c>compress_level</c>, <c>checksum</c>.</summary>
    private static ReplicationParameters? Parameters(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            JsonObject o = JsonNode.Parse(json)?.AsObject() ?? throw new JsonException("not an object");
            return new ReplicationParameters
            {
                BandwidthLimitKBps = o["bandwidth_limit"]?.GetValue<int>() ?? 0,
                CompressLevel = o["compress_level"]?.GetValue<int>() ?? 1,
                Checksum = o["checksum"]?.GetValue<bool>() ?? true,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, $"ReplicationParameters is a JSON object such as {{\"bandwidth_limit\":0,\"compress_level\":1,\"checksum\":true}} ({e.Message}).");
        }
    }

    private static DateTimeOffset? Time(SmcParameters p, string name) =>
        p.Str(name) is not { } v ? null
        : DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset t) ? t
        : throw SmcException.BadRequest(ErrorCodes.InvalidParameter, $"{name} must be a UTC time (yyyy-MM-ddTHH:mm:ssZ), not '{v}'.");

    private static JsonElement ModifyPatch(SmcParameters p)
    {
        p.Refuse("SystemDiskPart", "DataDisk", "Disks", "NetMode", "VpcId", "VSwitchId", "InstanceType", "InstanceRamRole", "InstanceId", "ImageName", "TargetType", "LaunchTemplateId", "LaunchTemplateVersion", "ValidTime", "ScheduledStartTime");
        var patch = new JsonObject();
        if (p.Str("Name") is { } name)
        {
            patch["name"] = name;
        }

        if (p.Str("Description") is { } description)
        {
            patch["description"] = description;
        }

        if (p.Int("Frequency") is int hours)
        {
            patch["syncInterval"] = hours is >= 1 and <= 168 ? $"PT{hours}H" : throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "Frequency is hours between incremental rounds: 1 to 168.");
        }

        if (p.Int("MaxNumberOfImageToKeep") is int keep)
        {
            patch["maxNumberOfImageToKeep"] = keep;
        }

        if (Parameters(p.Str("ReplicationParameters")) is { } rp)
        {
            patch["replicationParameters"] = new JsonObject { ["bandwidthLimitKBps"] = rp.BandwidthLimitKBps };
        }

        return JsonSerializer.SerializeToElement(patch, Web);
    }

    private static async Task<JsonObject> DescribeJobsAsync(SmcParameters p, ReplicationJobService jobs, CancellationToken ct)
    {
        PageRequest page = PageRequest.Parse(p.Str("PageNumber"), p.Str("PageSize"));
        List<string> ids = p.List("JobId"), sourceIds = p.List("SourceId");
        TagFilter? tags = p.Tags() is { } t ? TagFilter.Parse(t.Select(kv => $"{kv.Key}:{kv.Value}")) : null;
        List<ReplicationJob> all = [.. (await jobs.FilterAsync(p.Str("Status"), null, p.Str("Name"), tags, null, ct)).Where(j =>
            (ids.Count == 0 || ids.Contains(j.JobId)) && (sourceIds.Count == 0 || sourceIds.Contains(j.SourceId)) && (p.Str("BusinessStatus") is not { } business || j.BusinessStatus == business))];
        Page<ReplicationJob> shown = page.Apply(all);
        return new JsonObject
        {
            ["TotalCount"] = shown.TotalCount,
            ["PageNumber"] = shown.PageNumber,
            ["PageSize"] = shown.PageSize,
            ["ReplicationJobs"] = new JsonObject { ["ReplicationJob"] = new JsonArray([.. shown.Items.Select(SmcShapes.Job)]) },
        };
    }

    private static async Task<JsonObject> DescribeSourcesAsync(SmcParameters p, SourceServerService sources, CancellationToken ct)
    {
        PageRequest page = PageRequest.Parse(p.Str("PageNumber"), p.Str("PageSize"));
        List<string> ids = p.List("SourceId");
        TagFilter? tags = p.Tags() is { } t ? TagFilter.Parse(t.Select(kv => $"{kv.Key}:{kv.Value}")) : null;
        List<SourceServer> all = [.. (await sources.FilterAsync(p.Str("State"), p.Str("Name"), tags, ct)).Where(s =>
            (ids.Count == 0 || ids.Contains(s.SourceId)) && (p.Str("JobId") is not { } job || s.JobId == job))];
        Page<SourceServer> shown = page.Apply(all);
        return new JsonObject
        {
            ["TotalCount"] = shown.TotalCount,
            ["PageNumber"] = shown.PageNumber,
            ["PageSize"] = shown.PageSize,
            ["SourceServers"] = new JsonObject { ["SourceServer"] = new JsonArray([.. shown.Items.Select(SmcShapes.Source)]) },
        };
    }
}
