using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Checks a job waiting for its agent's commit: still wanted, agent alive.</summary>
public sealed class CheckSyncActivity(RoundIssuer steps, IHostApplicationLifetime host) : TaskActivity<CheckSyncInput, CheckSyncResult>
{
    public override Task<CheckSyncResult> RunAsync(TaskActivityContext context, CheckSyncInput input) =>
        steps.CheckSyncAsync(input, host.ApplicationStopping);
}
