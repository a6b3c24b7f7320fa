namespace Smc.Control;

/// <summary>Every log line of the standalone host, with a stable event id (3000–3999; see Smc.Core's Logs for the scheme).</summary>
internal static partial class Logs
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Storage account {Account}, task hub {TaskHub}")]
    public static partial void StorageChosen(this ILogger logger, string account, string taskHub);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "smc-control listening on {Urls}")]
    public static partial void Listening(this ILogger logger, string urls);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Housekeeping failed, will retry: {Message}")]
    public static partial void HousekeepingFailed(this ILogger logger, string message);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Made {Count} spare job key pair(s): {Target} ready")]
    public static partial void SpareKeysMade(this ILogger logger, int count, int target);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Making spare job key pairs failed, will retry: {Message}")]
    public static partial void SpareKeysFailed(this ILogger logger, string message);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Could not lower the spare-key thread's priority (errno {Errno}); its primes compete with the rest")]
    public static partial void SpareKeysNotNiced(this ILogger logger, int errno);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Orchestration {InstanceId}: dropping {EventType} message, {Reason}")]
    public static partial void MessageDropped(this ILogger logger, string instanceId, string eventType, string reason);
}
