using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>What follows a finalized image (<see cref="RoundEndSteps.ImageOutputsAsync"/>): boot test, export plan or push.</summary>
public sealed record ImageOutputs(ExportPlan Export, ExportStepResult? Pushed);

/// <param name="Final">The job's last round (a cutover round): no wait for a next one.</param>
public sealed record CleanUpInput(string JobId, bool Final);

/// <summary>Whether the job now waits for its next round, how long, and the queued jobs of its wave to wake.</summary>
public sealed record CleanUpResult(bool Incremental, int IntervalSeconds, List<string> Wake);

/// <param name="Launch">The job finished: its test launch (if it asked for one) runs first.</param>
public sealed record EndRunInput(FinishRunInput Finish, bool Launch);

/// <summary>The error code the run ended with (a refused test launch's, for a finished job) and the queued jobs of its wave to wake.</summary>
public sealed record EndRunResult(string? ErrorCode, List<string> Wake);

/// <summary>Boot test, then export plan or container push, of a finalized image (orchestration version 5).</summary>
public sealed class ImageOutputsActivity(RoundEndSteps steps, IHostApplicationLifetime host) : TaskActivity<VerifyBootInput, ImageOutputs>
{
    public override Task<ImageOutputs> RunAsync(TaskActivityContext context, VerifyBootInput input) =>
        steps.ImageOutputsAsync(input, host.ApplicationStopping);
}

/// <summary>Staging deleted, then the job Waiting for its next round with its wave slot back, unless it ended (orchestration version 5).</summary>
public sealed class CleanUpRoundActivity(RoundEndSteps steps, IHostApplicationLifetime host) : TaskActivity<CleanUpInput, CleanUpResult>
{
    public override Task<CleanUpResult> RunAsync(TaskActivityContext context, CleanUpInput input) =>
        steps.CleanUpAsync(input, host.ApplicationStopping);
}

/// <summary>Test launch (finished jobs), the run's end on the record, the wave slot back (orchestration version 5).</summary>
public sealed class EndRunActivity(RoundEndSteps steps, IHostApplicationLifetime host) : TaskActivity<EndRunInput, EndRunResult>
{
    public override Task<EndRunResult> RunAsync(TaskActivityContext context, EndRunInput input) =>
        steps.EndRunAsync(input, host.ApplicationStopping);
}
