using Smc.Core.Orchestration;

namespace Smc.Core.Services;

/// <summary>
/// Steps of a round's end folded into one activity each (orchestration version 5, issue 20): every activity is a trip
/// through two queues and the history table, ~10 storage requests and, on a loaded host, seconds; 5 of a local one-shot
/// job's 15 did nothing. Each step is idempotent alone, so their sequence is too: a retried activity redoes what the
/// first attempt didn't finish and finds the rest done.
/// </summary>
public sealed class RoundEndSteps(BootVerifier boots, OssUploadSteps uploads, ContainerSteps containers, RoundIssuer rounds, JobSteps jobs,
    EcsImportSteps imports, WaveService waves)
{
    /// <summary>
    /// What follows a finalized image: its boot test (NotRun without qemu; never fails the round), then its export
    /// (provider alibaba: the plan comes back for the export stage), else its push (ContainerImage with a registry).
    /// </summary>
    public async Task<ImageOutputs> ImageOutputsAsync(VerifyBootInput input, CancellationToken cancellationToken)
    {
        await boots.VerifyAsync(input.JobId, input.Round, input.ImageId, cancellationToken);
        ExportPlan export = await uploads.BeginAsync(new ExportInput(input.JobId, input.Round), cancellationToken);
        if (export.Round is not null || export.ErrorCode is not null)
        {
            return new ImageOutputs(export, null);
        }

        return new ImageOutputs(export, await containers.PushAsync(new ExportInput(input.JobId, input.Round), cancellationToken));
    }

    /// <summary>
    /// Deletes the round's staging; then, unless it was the job's last round, the job waits for its next (the result
    /// says whether it does) and gives its wave slot back (the queued jobs to wake come back).
    /// </summary>
    public async Task<CleanUpResult> CleanUpAsync(CleanUpInput input, CancellationToken cancellationToken)
    {
        await rounds.PurgeStagingAsync(input.JobId, cancellationToken);
        if (input.Final)
        {
            return new CleanUpResult(false, 0, []);
        }

        WaitingResult waiting = await jobs.EnterWaitingAsync(input.JobId, cancellationToken);
        return new CleanUpResult(waiting.Incremental, waiting.IntervalSeconds,
            waiting.Incremental ? await waves.ReleaseSlotAsync(input.JobId, cancellationToken) : []);
    }

    /// <summary>
    /// The run's end: the test launch first when the job finished (a refused launch is reported, the job still Finished),
    /// then the record, then its wave slot; returns the queued jobs of the wave to wake.
    /// </summary>
    public async Task<EndRunResult> EndRunAsync(EndRunInput input, CancellationToken cancellationToken)
    {
        FinishRunInput finish = input.Finish;
        if (input.Launch)
        {
            ExportStepResult launched = await imports.LaunchAsync(finish.JobId, cancellationToken);
            finish = finish with { ErrorCode = launched.ErrorCode, Message = launched.Message };
        }

        await jobs.FinishRunAsync(finish, cancellationToken);
        return new EndRunResult(finish.ErrorCode, await waves.ReleaseSlotAsync(finish.JobId, cancellationToken));
    }
}
