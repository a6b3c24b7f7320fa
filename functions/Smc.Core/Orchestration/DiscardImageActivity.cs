using Microsoft.DurableTask;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Deletes a partly assembled image, so a failed round leaves no image.</summary>
public sealed class DiscardImageActivity(RoundSteps steps) : TaskActivity<DiscardImageInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, DiscardImageInput input) =>
        steps.DiscardImageAsync(input);
}
