using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Takes the job's source server if it is Available (idempotent: taking it twice is a no-op).</summary>
public sealed class AcquireSourceActivity(JobSteps steps, IHostApplicationLifetime host) : TaskActivity<AcquireSourceInput, AcquireSourceResult>
{
    public override Task<AcquireSourceResult> RunAsync(TaskActivityContext context, AcquireSourceInput input) =>
        steps.AcquireSourceAsync(input, host.ApplicationStopping);
}
