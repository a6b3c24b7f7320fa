using Microsoft.DurableTask;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>
/// The runbook of one replication job (instance id = job id):
/// prepare (wait for the source, take it) → full copy → incremental rounds → image.
/// Deterministic: time from the context, no I/O; everything else happens in activities.
/// </summary>
public sealed class MigrateServerOrchestrator : TaskOrchestrator<MigrationInput, MigrationResult>
{
    /// <summary>Re-checks of the source before the history is trimmed with ContinueAsNew.</summary>
    private const int MaxWaitsPerGeneration = 50;

    internal static readonly TaskOptions ActivityRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(1)));

    public override async Task<MigrationResult> RunAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        // 1. Preparing: wait until the source server is Available, then hold it (InUse).
        for (int waits = 0; ; waits++)
        {
            AcquireSourceResult acquired = await context.CallActivityAsync<AcquireSourceResult>(
                TaskNames.AcquireSourceActivity, new AcquireSourceInput(input.JobId), ActivityRetry);
            if (acquired.Outcome == AcquireOutcome.Acquired)
            {
                break;
            }

            if (acquired.Outcome == AcquireOutcome.JobGone)
            {
                return new MigrationResult(input.JobId, "Gone", null);
            }

            if (acquired.Outcome == AcquireOutcome.SourceGone)
            {
                return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, "SourceNotFound", acquired.Message));
            }

            if (waits >= MaxWaitsPerGeneration)
            {
                context.ContinueAsNew(input with { Generation = input.Generation + 1 });
                return new MigrationResult(input.JobId, JobStatus.Running, null);
            }

            // The heartbeat route signals when the source comes back; the timer is the safety net.
            using var cts = new CancellationTokenSource();
            Task<string> signal = context.WaitForExternalEvent<string>(MigrationEvents.SourceAvailable, cts.Token);
            Task timer = context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(input.RecheckSeconds), cts.Token);
            await Task.WhenAny(signal, timer);
#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
            cts.Cancel();
#pragma warning restore CA1849
        }

        // 2. Full copy: not built yet (issue 3). Fail clearly and give the source back.
        return await FinishAsync(context, new FinishRunInput(
            input.JobId,
            JobStatus.InError,
            ErrorCodes.NotImplementedFullCopy,
            "The source was prepared, but block copy is not available in this version of SMC Serverless. Upgrade the control plane, then start the job again."));
    }

    private static async Task<MigrationResult> FinishAsync(TaskOrchestrationContext context, FinishRunInput finish)
    {
        await context.CallActivityAsync(TaskNames.FinishRunActivity, finish, ActivityRetry);
        return new MigrationResult(finish.JobId, finish.Status, finish.ErrorCode);
    }
}
