using Microsoft.DurableTask;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Writes the destination partition tables and records the image and the run (idempotent).</summary>
public sealed class FinalizeImageActivity(RoundSteps steps) : TaskActivity<FinalizeImageInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, FinalizeImageInput input) =>
        steps.FinalizeImageAsync(input);
}
