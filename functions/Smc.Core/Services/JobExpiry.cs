using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>Expiry of incremental jobs at their <c>validTime</c> (run by <see cref="Housekeeping"/>).</summary>
public sealed class JobExpiry(IRecordStore<ReplicationJob> jobs, JobTeardown teardown, TimeProvider clock)
{
    /// <summary>
    /// Housekeeping: incremental jobs past their <c>validTime</c> become <c>Expired</c> — the orchestration is ended, the
    /// source released (it may get a new job), staging deleted; kept images stay. Returns how many expired.
    /// </summary>
    public async Task<int> ExpireOverdueAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = clock.GetUtcNow();
        var overdue = new List<string>();
        await foreach (Stored<ReplicationJob> j in jobs.ListDueAsync(now, cancellationToken))
        {
            if (j.Value.ValidTime <= now && !IsEnded(j.Value.Status))
            {
                overdue.Add(j.Value.JobId);
            }
        }

        int expired = 0;
        foreach (string jobId in overdue)
        {
            string was = "";
            Stored<ReplicationJob>? stored = await jobs.UpdateAsync(jobId, j =>
            {
                if (IsEnded(j.Status))
                {
                    return false;
                }

                was = j.Status;
                j.Status = JobStatus.Expired;
                j.BusinessStatus = null;
                j.NextRoundTime = null;
                j.EtaSeconds = null;
                j.Throughput = 0;
                j.ErrorCode = null;
                j.StatusInfo = new StatusInfo
                {
                    ErrorCode = ErrorCodes.JobExpired,
                    ErrorMessage = $"The job expired at its validTime {j.ValidTime:u}. Its kept images remain (GET /api/v1/images?jobId={j.JobId}); create a new job to go on migrating this source.",
                };
                j.EndTime = now;
                j.UpdatedAt = now;
                return true;
            }, cancellationToken);
            if (stored is null || was == "")
            {
                continue;
            }

            await teardown.EndAsync(stored.Value, was, "validTime passed", cancellationToken);
            expired++;
        }

        return expired;
    }

    private static bool IsEnded(string status) => status is JobStatus.Finished or JobStatus.Expired or JobStatus.Deleting;
}
