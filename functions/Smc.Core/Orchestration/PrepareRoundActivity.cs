using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Issues a round to the agent: job key, staging container, command (idempotent).</summary>
public sealed class PrepareRoundActivity(RoundIssuer steps, IHostApplicationLifetime host) : TaskActivity<PrepareRoundInput, PrepareRoundResult>
{
    public override Task<PrepareRoundResult> RunAsync(TaskActivityContext context, PrepareRoundInput input) =>
        steps.PrepareRoundAsync(input, host.ApplicationStopping);
}
