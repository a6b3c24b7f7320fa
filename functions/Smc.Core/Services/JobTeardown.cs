using Smc.Core.Domain;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// Ending a job for good — one routine for both ways it happens, deleted by the operator or expired at its
/// <c>validTime</c>: its orchestration is terminated when one may still run, the source is released (it may get a new
/// job) and the job's staging is deleted. Kept images stay; every step may be repeated.
/// </summary>
public sealed class JobTeardown(IRecordStore<SourceServer> sources, IKeyIndex keys, IMigrationEngine engine, IStagingStore staging)
{
    /// <param name="job">The job as stored once its end was recorded.</param>
    /// <param name="wasStatus">Its status before that ("" when an earlier attempt had recorded it: the rest is redone).</param>
    /// <param name="reason">Why, for the orchestration's termination.</param>
    public async Task EndAsync(ReplicationJob job, string wasStatus, string reason, CancellationToken cancellationToken)
    {
        if (wasStatus is JobStatus.Running or JobStatus.Waiting or JobStatus.Deleting or "")
        {
            await engine.TerminateAsync(job.JobId, reason, cancellationToken);
        }

        await sources.UpdateAsync(job.SourceId, s => s.ReleaseFrom(job.JobId), cancellationToken);
        await keys.ReleaseAsync(KeyScopes.SourceJob, job.SourceId, job.JobId, cancellationToken);
        await staging.DeleteAsync(job.JobId, cancellationToken);
    }
}
