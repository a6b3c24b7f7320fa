using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Records the end of a run on the job and gives the source back (idempotent).</summary>
public sealed class FinishRunActivity(JobSteps steps, IHostApplicationLifetime host) : TaskActivity<FinishRunInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, FinishRunInput input) =>
        steps.FinishRunAsync(input, host.ApplicationStopping);
}
