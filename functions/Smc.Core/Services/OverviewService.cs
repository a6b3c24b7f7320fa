using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The overview of every source and job: counts, bytes moved, throughput, errors, lag of incremental jobs — from the host's
/// views of the jobs and sources (<see cref="RecordView{T}"/>), as the lists are, and the spare job keys counted as
/// often (<see cref="Refreshing{T}"/>).
/// </summary>
public sealed class OverviewService(RecordView<ReplicationJob> jobs, RecordView<SourceServer> sources, ReplicationJobService jobService, JobKeys jobKeys, TimeProvider clock)
{
    private readonly Refreshing<int> _spares = new(() => jobKeys.CountSparesAsync(CancellationToken.None), clock);

    public async Task<Overview> GetAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<ReplicationJob>();
        foreach (Stored<ReplicationJob> j in await jobs.ListAsync(cancellationToken))
        {
            all.Add(jobService.WithLag(j.Value));
        }

        var states = SourceState.All.ToDictionary(s => s, _ => 0);
        foreach (Stored<SourceServer> s in await sources.ListAsync(cancellationToken))
        {
            states[s.Value.State] = states.GetValueOrDefault(s.Value.State) + 1;
        }

        static OverviewJob Row(ReplicationJob j) => new(j.JobId, j.Name, j.SourceId, j.Status, j.BusinessStatus, j.CurrentRound,
            j.LagSeconds, j.EtaSeconds, j.NextRoundTime, j.StatusInfo.ErrorCode ?? j.ErrorCode, j.StatusInfo.ErrorMessage);

        var running = all.Where(j => j.Status == JobStatus.Running).ToList();
        return new Overview
        {
            TotalJobs = all.Count,
            JobsByStatus = JobStatus.All.ToDictionary(s => s, s => all.Count(j => j.Status == s)),
            JobsByBusinessStatus = BusinessStatus.All.ToDictionary(s => s, s => running.Count(j => j.BusinessStatus == s)),
            TotalSources = states.Values.Sum(),
            SourcesByState = states,
            BytesMoved = all.Sum(j => j.ReplicationJobRuns.Where(r => r.EndTime is not null).Sum(r => r.UploadedBytes)
                + (j.Status == JobStatus.Running ? j.Disks.Sum(d => d.UploadedBytes) : 0)),
            Throughput = running.Sum(j => j.Throughput),
            JobKeySpares = await _spares.GetAsync(cancellationToken),
            Errors = [.. all.Where(j => j.Status == JobStatus.InError).OrderByDescending(j => j.UpdatedAt).Select(Row)],
            BootWarnings = [.. all.Select(j => (Job: j, Test: j.ReplicationJobRuns.LastOrDefault(r => r.BootTest is { Status: not BootTest.NotRun })?.BootTest))
                .Where(t => t.Test?.Status == BootTest.Failed).OrderByDescending(t => t.Job.UpdatedAt)
                .Select(t => Row(t.Job) with { ErrorCode = Errors.ErrorCodes.BootTestFailed, ErrorMessage = t.Test!.Message })],
            Incremental = [.. all.Where(j => !j.RunOnce && j.Status is not (JobStatus.Finished or JobStatus.Expired or JobStatus.Deleting))
                .OrderByDescending(j => j.LagSeconds ?? 0).Select(Row)],
        };
    }
}
