using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The work behind the migration activities, shared by both hosts (the standalone host's class-based
/// activities and the Functions app's activity triggers call these methods). Each step is idempotent.
/// </summary>
public sealed class JobSteps(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    IKeyIndex keys,
    Microsoft.Extensions.Options.IOptions<Smc.Core.Options.ControlPlaneOptions> options,
    TimeProvider clock,
    ILogger<JobSteps> logger)
{
    /// <summary>Identifies this process in logs, so work spread over several hosts can be seen.</summary>
    public static readonly string HostId = $"{Environment.MachineName}/{Environment.ProcessId}";

    public async Task<AcquireSourceResult> AcquireSourceAsync(AcquireSourceInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.AcquireSourceActivity, input.JobId, HostId);
        Stored<ReplicationJob>? job = await jobs.GetAsync(input.JobId, cancellationToken);
        if (job is null || job.Value.Status != JobStatus.Running)
        {
            return new AcquireSourceResult(AcquireOutcome.JobGone, null, "The job is no longer running.");
        }

        string sourceId = job.Value.SourceId;
        string? observed = null;
        Stored<SourceServer>? source = await sources.UpdateAsync(sourceId, s =>
        {
            observed = s.State;
            if (s.JobId == input.JobId && s.State == SourceState.InUse)
            {
                return false;
            }

            if (s.State != SourceState.Available || (s.JobId is not null && s.JobId != input.JobId))
            {
                return false;
            }

            s.State = SourceState.InUse;
            s.JobId = input.JobId;
            return true;
        }, cancellationToken);

        if (source is null || observed == SourceState.Deleting)
        {
            return new AcquireSourceResult(AcquireOutcome.SourceGone, null, $"Source server '{sourceId}' was deleted. Register the server again and create a new job.");
        }

        if (source.Value.State == SourceState.InUse && source.Value.JobId == input.JobId)
        {
            await jobs.UpdateAsync(input.JobId, j =>
            {
                j.StatusInfo = new StatusInfo();
                j.UpdatedAt = clock.GetUtcNow();
                return true;
            }, cancellationToken);
            return new AcquireSourceResult(AcquireOutcome.Acquired, SourceState.InUse, null);
        }

        string message = $"Waiting for source server '{sourceId}' to be Available (it is {source.Value.State}). Check that its agent runs.";
        await jobs.UpdateAsync(input.JobId, j =>
        {
            if (j.StatusInfo.ErrorMessage == message)
            {
                return false;
            }

            j.StatusInfo = new StatusInfo { ErrorCode = ErrorCodes.SourceUnavailable, ErrorMessage = message };
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken);
        return new AcquireSourceResult(AcquireOutcome.Wait, source.Value.State, message);
    }

    public async Task<WaitingResult> EnterWaitingAsync(string jobId, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.EnterWaitingActivity, jobId, HostId);
        ReplicationJob? current = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        if (current is null || current.RunOnce || current.Status is not (JobStatus.Running or JobStatus.Waiting)
            || current.ReplicationJobRuns.MaxBy(r => r.Round)?.Final == true)
        {
            // One-shot jobs and the cutover round end here (a restarted cutover export too).
            return new WaitingResult(false, 0);
        }

        int seconds = (int)SyncInterval.Parse(current.SyncInterval, TimeSpan.FromSeconds(options.Value.MinSyncIntervalSeconds)).TotalSeconds;
        Stored<ReplicationJob>? job = await jobs.UpdateAsync(jobId, j =>
        {
            j.Status = JobStatus.Waiting;
            j.BusinessStatus = null;
            j.NextRoundTime = clock.GetUtcNow().AddSeconds(seconds);
            j.EtaSeconds = null;
            j.Throughput = 0;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken);

        // Between rounds the agent has nothing to do; the job keeps its claim on the source (one unfinished job each).
        if (job is not null)
        {
            await sources.UpdateAsync(job.Value.SourceId, s => s.ReleaseFrom(jobId), cancellationToken: cancellationToken);
        }

        return new WaitingResult(true, seconds);
    }

    public async Task<bool> BeginRoundAsync(string jobId, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.BeginRoundActivity, jobId, HostId);
        Stored<ReplicationJob>? job = await jobs.UpdateAsync(jobId, j =>
        {
            if (j.Status != JobStatus.Waiting)
            {
                return false;
            }

            j.Status = JobStatus.Running;
            j.BusinessStatus = BusinessStatus.Preparing;
            j.NextRoundTime = null;
            j.StatusInfo = new StatusInfo();
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken);
        return job?.Value.Status == JobStatus.Running;
    }

    /// <summary>A scheduled round is due: true while the job is paused, recording <see cref="ReplicationJob.HeldSince"/> once.</summary>
    public async Task<bool> HoldIfPausedAsync(string jobId, CancellationToken cancellationToken)
    {
        Stored<ReplicationJob>? job = await jobs.UpdateAsync(jobId, j =>
        {
            if (!j.Paused || j.HeldSince is not null)
            {
                return false;
            }

            j.HeldSince = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken);
        return job?.Value.Paused == true && job.Value.Status == JobStatus.Waiting;
    }

    public async Task<bool> FinishRunAsync(FinishRunInput input, CancellationToken cancellationToken)
    {
        logger.RunFinishing(TaskNames.FinishRunActivity, input.JobId, HostId, input.Status, input.ErrorCode);
        Stored<ReplicationJob>? job = await jobs.UpdateAsync(input.JobId, j =>
        {
            if (j.Status is not (JobStatus.Running or JobStatus.Waiting))
            {
                return false;
            }

            DateTimeOffset now = clock.GetUtcNow();
            j.Status = input.Status;
            j.BusinessStatus = null;
            j.NextRoundTime = null;
            j.ErrorCode = input.ErrorCode;
            j.StatusInfo = new StatusInfo { ErrorCode = input.ErrorCode, ErrorMessage = input.Message };
            j.EndTime = now;
            j.UpdatedAt = now;
            if (input.Status == JobStatus.Finished)
            {
                j.Progress = 100;
            }

            return true;
        }, cancellationToken);

        if (job is not null)
        {
            if (input.Status == JobStatus.Finished)
            {
                // A finished job no longer counts as the source's one unfinished job.
                await keys.ReleaseAsync(KeyScopes.SourceJob, job.Value.SourceId, input.JobId, cancellationToken);
            }

            await sources.UpdateAsync(job.Value.SourceId, s => s.ReleaseFrom(input.JobId), cancellationToken);
        }

        return job is not null;
    }
}
