using Microsoft.DurableTask;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Decrypts, checks and writes one slice of chunks into a destination disk (idempotent: rewriting is harmless).</summary>
public sealed class AssembleSliceActivity(RoundSteps steps) : TaskActivity<SliceInput, SliceResult>
{
    public override Task<SliceResult> RunAsync(TaskActivityContext context, SliceInput input) =>
        steps.AssembleSliceAsync(input);
}
