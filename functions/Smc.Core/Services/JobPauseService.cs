using Smc.Core.Domain;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// Pause and resume of incremental jobs (issue 19): the SLA-friendly alternative to stop. A paused job keeps its state,
/// its images and its orchestration; its scheduled rounds are held (<see cref="ReplicationJob.HeldSince"/>) until it is
/// resumed, when a held round runs at once. A start (a round now) and a cutover still work while paused. Both calls
/// are idempotent.
/// </summary>
public sealed class JobPauseService(IRecordStore<ReplicationJob> jobs, IMigrationEngine engine, TimeProvider clock)
{
    public async Task<ReplicationJob> PauseAsync(string jobId, CancellationToken cancellationToken = default)
    {
        Stored<ReplicationJob> stored = await jobs.UpdateAsync(ReplicationJobService.Check(jobId), j =>
        {
            if (j.RunOnce || j.Status is not (JobStatus.Waiting or JobStatus.Running))
            {
                throw ReplicationJobService.StatusDenied(j, j.RunOnce ? "pause one-shot" : "pause", "an incremental job (runOnce false) is Waiting or Running");
            }

            if (j.Paused)
            {
                return false;
            }

            j.Paused = true;
            j.PausedAt = clock.GetUtcNow();
            j.HeldSince = null;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw ReplicationJobService.NotFound(jobId);
        return stored.Value;
    }

    public async Task<ReplicationJob> ResumeAsync(string jobId, CancellationToken cancellationToken = default)
    {
        bool resumed = false;
        Stored<ReplicationJob> stored = await jobs.UpdateAsync(ReplicationJobService.Check(jobId), j =>
        {
            if (!j.Paused)
            {
                return false;
            }

            (j.Paused, j.PausedAt, j.HeldSince, j.UpdatedAt) = (false, null, null, clock.GetUtcNow());
            resumed = true;
            return true;
        }, cancellationToken) ?? throw ReplicationJobService.NotFound(jobId);

        // The orchestration holds a due round only while Waiting; it checks the job again on this event.
        if (resumed && stored.Value.Status == JobStatus.Waiting)
        {
            await engine.RaiseEventAsync(jobId, MigrationEvents.Resumed, "", cancellationToken);
        }

        return stored.Value;
    }
}
