using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Smc.Core.Services;

namespace Smc.Functions;

/// <summary>
/// Housekeeping every 5 s (under a quarter of the default 30 s heartbeat, so a silent source is
/// <c>Unavailable</c> within 3 × heartbeatRate): silent sources, expired activation codes, jobs past their validTime
/// (ending their orchestrations needs the Durable client); then up to <see cref="SparesPerRun"/> spare job key pairs
/// (SMC_SECURITY__JOBKEYSPARES; each ~0.8 s of a core).
/// </summary>
public sealed class HousekeepingFunction(Housekeeping housekeeping, JobKeys jobKeys, Microsoft.Extensions.Options.IOptions<Smc.Core.Options.SecurityOptions> security)
{
    public const int SparesPerRun = 4;

    public const string Schedule = "*/5 * * * * *";

    [Function("Housekeeping")]
    public async Task Run([TimerTrigger(Schedule)] TimerInfo timer, [DurableClient] DurableTaskClient client, FunctionContext context)
    {
        using (AmbientDurableClient.Use(client))
        {
            await housekeeping.RunAsync(context.CancellationToken);
        }

        await jobKeys.FillSparesAsync(security.Value.JobKeySpares, SparesPerRun, context.CancellationToken);
    }
}
