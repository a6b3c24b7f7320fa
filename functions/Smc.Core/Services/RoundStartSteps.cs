using Smc.Core.Api;
using Smc.Core.Orchestration;

namespace Smc.Core.Services;

/// <summary>
/// What precedes a round's command, in one activity (orchestration version 6): a restarted job's pending export, the
/// source taken, a slot of the job's wave, the round issued. Each step is the idempotent step its own activity runs; the
/// first that doesn't go through stops the sequence, and the orchestrator waits on it with that step's own activity.
/// </summary>
public sealed class RoundStartSteps(OssUploadSteps uploads, JobSteps jobs, WaveService waves, RoundIssuer rounds)
{
    public async Task<StartRoundResult> StartAsync(PrepareRoundInput input, CancellationToken cancellationToken)
    {
        ExportPlan pending = await uploads.BeginAsync(new ExportInput(input.JobId, null), cancellationToken);
        if (pending.Round is not null || pending.ErrorCode is not null)
        {
            return new StartRoundResult(pending, null, null, null);
        }

        AcquireSourceResult acquired = await jobs.AcquireSourceAsync(new AcquireSourceInput(input.JobId), cancellationToken);
        if (acquired.Outcome != AcquireOutcome.Acquired)
        {
            return new StartRoundResult(pending, acquired, null, null);
        }

        WaveSlotResult slot = await waves.TakeSlotAsync(input.JobId, cancellationToken);
        return slot.Granted
            ? new StartRoundResult(pending, acquired, slot, await rounds.PrepareRoundAsync(input, cancellationToken))
            : new StartRoundResult(pending, acquired, slot, null);
    }
}
