using Microsoft.Extensions.Logging;

namespace Smc.Api;

/// <summary>Every log line of Smc.Api, with a stable event id (2000–2999; see Smc.Core's Logs for the scheme).</summary>
internal static partial class Logs
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "Route {Route} failed")]
    public static partial void RouteFailed(this ILogger logger, Exception exception, string route);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Batch operation {Index} ({Action} {JobId}) failed")]
    public static partial void BatchOperationFailed(this ILogger logger, Exception exception, int index, string? action, string? jobId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "SMC-compatible API request {RequestId} failed")]
    public static partial void SmcCallFailed(this ILogger logger, Exception exception, string requestId);
}
