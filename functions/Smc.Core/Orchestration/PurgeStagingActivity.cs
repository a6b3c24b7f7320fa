using Microsoft.DurableTask;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Deletes the job's staging container once its round is an image.</summary>
public sealed class PurgeStagingActivity(RoundSteps steps) : TaskActivity<string, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, string input) =>
        steps.PurgeStagingAsync(input);
}
