using Microsoft.Extensions.Logging;

namespace Smc.Core;

/// <summary>
/// Every log line of Smc.Core, with a stable event id (1000–1999; Smc.Api has 2000–2999, Smc.Control 3000–3999), so
/// an operator's alert or query keys on the id, not on wording. Ids are never reused: a retired message keeps its number.
/// </summary>
internal static partial class Logs
{
    // 1000–1099: the migration's activities and upkeep.
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Activity {Activity} for {JobId} on host {HostId}")]
    public static partial void ActivityStarted(this ILogger logger, string activity, string jobId, string hostId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Activity {Activity} for {JobId} on host {HostId}: {Status} {ErrorCode}")]
    public static partial void RunFinishing(this ILogger logger, string activity, string jobId, string hostId, string status, string? errorCode);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Housekeeping: {Silent} source(s) became Unavailable, {Tokens} token status(es) changed, {Expired} job(s) expired")]
    public static partial void HousekeepingDone(this ILogger logger, int silent, int tokens, int expired);

    // 1100–1199: rounds and images.
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "No listing of round {Base} for {JobId}; round {Round} gets none, and the next round captures the whole tree")]
    public static partial void ListingMissing(this ILogger logger, int @base, string jobId, int round);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Boot readiness of image {ImageId} not inspected: {Reason}")]
    public static partial void BootNotInspected(this ILogger logger, string imageId, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Boot test of image {ImageId} ({JobId} round {Round}): {Status} in {Seconds} s: {Message}")]
    public static partial void BootTested(this ILogger logger, string imageId, string jobId, int round, string status, double seconds, string? message);

    // 1200–1299: container images in a registry.
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Pushed {Registry}/{Repository} {Tags} for {JobId} round {Round}: {Digest} ({Layers} layers, the new one {Bytes} bytes)")]
    public static partial void ContainerPushed(this ILogger logger, string registry, string repository, string tags, string jobId, int round, string digest, int layers, long bytes);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "{Registry} doesn't allow deleting {Repository}@{Digest} (round {Round} of {JobId}); it stays")]
    public static partial void RegistryKeepsImage(this ILogger logger, string registry, string repository, string digest, int round, string jobId);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Deleting {Repository}@{Digest} (round {Round} of {JobId}) from {Registry} failed: {Message}; the next push tries again")]
    public static partial void RegistryDeleteFailed(this ILogger logger, string repository, string digest, int round, string jobId, string registry, string message);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Deleted {Registry}/{Repository}@{Digest} (round {Round} of {JobId}): beyond maxNumberOfImageToKeep")]
    public static partial void RegistryImageDeleted(this ILogger logger, string registry, string repository, string digest, int round, string jobId);

    // 1300–1399: exports to Alibaba Cloud.
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Export of {JobId} round {Round} disk {Disk}: {Sent} part(s) sent, {Skipped} already in OSS")]
    public static partial void ExportPartsSent(this ILogger logger, string jobId, int round, int disk, int sent, int skipped);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Export of {JobId} round {Round}: disk {Disk} is in OSS as {Bucket}/{Key} ({Bytes} bytes)")]
    public static partial void ExportDiskUploaded(this ILogger logger, string jobId, int round, int disk, string bucket, string key, long bytes);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Export of {JobId} round {Round}: ImportImage started {ImageId} (task {TaskId}) in {Region}")]
    public static partial void ImportStarted(this ILogger logger, string jobId, int round, string imageId, string? taskId, string region);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Export of {JobId} round {Round}: image {ImageId} is Available")]
    public static partial void ImportAvailable(this ILogger logger, string jobId, int round, string imageId);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Export of {JobId}: image {ImageId} of round {Round} deleted (maxNumberOfImageToKeep {Keep})")]
    public static partial void CloudImageDeleted(this ILogger logger, string jobId, string? imageId, int round, int keep);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Information, Message = "Test launch of {JobId}: instance {InstanceId} from image {ImageId} in {Region}")]
    public static partial void TestLaunched(this ILogger logger, string jobId, string instanceId, string? imageId, string region);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "Export of {JobId}: cleanup call failed ({Code}: {Message}); left as it is")]
    public static partial void CloudCleanupFailed(this ILogger logger, string jobId, string code, string message);
}
