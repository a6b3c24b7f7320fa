using System.Globalization;
using System.Text.Json.Nodes;
using Smc.Core.Domain;
using Smc.Core.Services;

namespace Smc.Api.Compat;

/// <summary>Jobs and sources with SMC's field names, types and list wrappers (docs/smc-compat.md).</summary>
internal static class SmcShapes
{
    public static JsonNode Job(ReplicationJob j)
    {
        ReplicationJobRun? newest = j.ReplicationJobRuns.Where(r => r.ImageId is not null).MaxBy(r => r.Round);
        return new JsonObject
        {
            ["JobId"] = j.JobId,
            ["Name"] = j.Name,
            ["Description"] = j.Description ?? "",
            ["SourceId"] = j.SourceId,
            ["RegionId"] = j.RegionId ?? "",
            ["Status"] = j.Status,
            ["BusinessStatus"] = j.BusinessStatus ?? "",
            ["Progress"] = j.Progress,
            ["ErrorCode"] = j.StatusInfo.ErrorCode ?? j.ErrorCode ?? "",
            ["StatusInfo"] = j.StatusInfo.ErrorMessage ?? "",
            ["CreationTime"] = Time(j.CreatedAt),
            ["StartTime"] = Time(j.StartTime),
            ["EndTime"] = Time(j.EndTime),
            ["ScheduledStartTime"] = Time(j.ScheduledStartTime),
            ["ValidTime"] = Time(j.ValidTime),
            ["ImageId"] = newest?.Export?.ImageId ?? newest?.ImageId ?? "",
            ["ImageName"] = j.ImageName ?? "",
            ["InstanceId"] = j.InstanceId ?? "",
            ["InstanceType"] = j.InstanceType ?? "",
            ["VSwitchId"] = j.VSwitchId ?? "",
            ["TargetType"] = j.TargetType,
            ["SystemDiskSize"] = j.SystemDiskSize ?? 0,
            ["RunOnce"] = j.RunOnce,
            ["Frequency"] = j.RunOnce || j.SyncInterval is null ? 0 : (int)Math.Round(SyncInterval.Parse(j.SyncInterval, TimeSpan.Zero).TotalHours),
            ["MaxNumberOfImageToKeep"] = j.MaxNumberOfImageToKeep,
            ["ReplicationParameters"] = new JsonObject
            {
                ["bandwidth_limit"] = j.ReplicationParameters.BandwidthLimitKBps,
                ["compress_level"] = j.ReplicationParameters.CompressLevel,
                ["checksum"] = j.ReplicationParameters.Checksum,
            }.ToJsonString(),
            ["ContainerNamespace"] = j.ContainerNamespace ?? "",
            ["ContainerRepository"] = j.ContainerRepository ?? "",
            ["ContainerTag"] = j.ContainerTag ?? "",
            ["LaunchTemplateId"] = j.LaunchTemplateId ?? "",
            ["LaunchTemplateVersion"] = j.LaunchTemplateVersion ?? "",
            ["JobType"] = 0,
            ["ReplicationJobRuns"] = new JsonObject
            {
                ["ReplicationJobRun"] = new JsonArray([.. j.ReplicationJobRuns.OrderBy(r => r.Round).Select(r => (JsonNode)new JsonObject
                {
                    ["ImageId"] = r.Export?.ImageId ?? r.ImageId ?? "",
                    ["StartTime"] = Time(r.StartTime),
                    ["EndTime"] = Time(r.EndTime),
                    ["Type"] = r.Type,
                })]),
            },
            ["Tags"] = TagList(j.Tags),
        };
    }

    public static JsonNode Source(SourceServer s) => new JsonObject
    {
        ["SourceId"] = s.SourceId,
        ["Name"] = s.Name,
        ["Description"] = s.Description ?? "",
        ["State"] = s.State,
        ["ErrorCode"] = s.StatusInfo.ErrorCode ?? "",
        ["StatusInfo"] = new JsonObject { ["error_code"] = s.StatusInfo.ErrorCode ?? "", ["error_msg"] = s.StatusInfo.ErrorMessage ?? "" }.ToJsonString(),
        ["JobId"] = s.JobId ?? "",
        ["Platform"] = s.Platform ?? "",
        ["Architecture"] = s.Architecture ?? "",
        ["AgentVersion"] = s.AgentVersion ?? "",
        ["KernelLevel"] = s.KernelLevel ?? "",
        ["HeartbeatRate"] = s.HeartbeatRate,
        ["ReplicationDriver"] = "smc-serverless",
        ["SystemDiskSize"] = (int)((s.Disks.FirstOrDefault()?.SizeBytes ?? 0) >> 30),
        ["SystemInfo"] = System.Text.Json.JsonSerializer.Serialize(s.SystemInfo),
        ["CreationTime"] = Time(s.CreatedAt),
        ["Tags"] = TagList(s.Tags),
    };

    private static JsonObject TagList(Dictionary<string, string> tags) => new()
    {
        ["Tag"] = new JsonArray([.. tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (JsonNode)new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value })]),
    };

    /// <summary>SMC's time format: <c>yyyy-MM-ddTHH:mm:ssZ</c>; absent as an empty string.</summary>
    private static string Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";
}
