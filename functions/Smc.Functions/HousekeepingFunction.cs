using Microsoft.Azure.Functions.Worker;
using Smc.Core.Services;

namespace Smc.Functions;

/// <summary>
/// Housekeeping every 5 s (under a quarter of the default 30 s heartbeat, so a silent source is
/// <c>Unavailable</c> within 3 × heartbeatRate): silent sources, expired activation codes.
/// </summary>
public sealed class HousekeepingFunction(Housekeeping housekeeping)
{
    public const string Schedule = "*/5 * * * * *";

    [Function("Housekeeping")]
    public Task Run([TimerTrigger(Schedule)] TimerInfo timer, FunctionContext context) =>
        housekeeping.RunAsync(context.CancellationToken);
}
