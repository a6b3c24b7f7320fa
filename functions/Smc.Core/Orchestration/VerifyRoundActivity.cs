using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Checks the committed manifest against its recorded hash and plans the assembly slices.</summary>
public sealed class VerifyRoundActivity(SliceAssembly steps, IHostApplicationLifetime host) : TaskActivity<VerifyRoundInput, AssemblyPlan>
{
    public override Task<AssemblyPlan> RunAsync(TaskActivityContext context, VerifyRoundInput input) =>
        steps.VerifyRoundAsync(input, host.ApplicationStopping);
}
