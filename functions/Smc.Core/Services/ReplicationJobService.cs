using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>Replication jobs: creation with SMC's checks, and the state rules of start/stop/cutover/patch/delete.</summary>
public sealed class ReplicationJobService(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    IKeyIndex keys,
    IMigrationEngine engine,
    JobTeardown teardown,
    JobKeys jobKeys,
    Microsoft.Extensions.Options.IOptions<Smc.Core.Options.ControlPlaneOptions> options,
    ICloudImages cloud,
    CloudExportCleanup exportCleanup,
    IRegistryAllowList registries,
    RunArchive runArchive,
    JobTemplateService templates,
    IRecordStore<Wave> waves,
    RecordView<ReplicationJob> view,
    TimeProvider clock)
{
    private TimeSpan MinInterval => TimeSpan.FromSeconds(options.Value.MinSyncIntervalSeconds);

    public async Task<CreatedJob> CreateAsync(CreateReplicationJobRequest given, CancellationToken cancellationToken = default)
    {
        // A template's values under the request's own, {source} filled in; a clientToken stands for the request as given.
        CreateReplicationJobRequest request = await templates.ExpandAsync(given, cancellationToken);
        ReplicationJob draft = JobRequests.Build(request, Ids.New(Ids.JobPrefix), clock.GetUtcNow(), MinInterval);
        if (draft.ContainerRegistry is { } registry && !registries.Allows(registry))
        {
            throw SmcException.Forbidden(ErrorCodes.RegistryNotAllowed, $"containerRegistry {registry} is not a registry this control plane pushes to (the operator chooses them): {registries.HowToAllow}.");
        }

        if (draft.ImageProvider == ImageProvider.Alibaba && draft.TargetType == TargetType.Image && !cloud.IsConfigured)
        {
            throw SmcException.BadRequest(ErrorCodes.AlibabaNotConfigured,
                "imageProvider alibaba needs an Alibaba Cloud account on the control plane: set SMC_ALIBABA__ACCESSKEYID, SMC_ALIBABA__ACCESSKEYSECRET and SMC_ALIBABA__OSSBUCKET (a bucket in the job's region), or use imageProvider local.");
        }

        if (draft.WaveId is { } waveId && await waves.GetAsync(WaveService.Check(waveId), cancellationToken) is null)
        {
            throw WaveService.NotFound(waveId);
        }

        Stored<SourceServer> source = await sources.GetAsync(draft.SourceId, cancellationToken)
            ?? throw SmcException.NotFound(ErrorCodes.SourceNotFound, $"No source server '{draft.SourceId}'. Register the source with smc-agent first, then use the sourceId it got.");
        if (source.Value.State == SourceState.Deleting)
        {
            throw SmcException.Conflict(ErrorCodes.SourceStatusDenied, $"Source server '{draft.SourceId}' is being deleted.");
        }

        string jobId = draft.JobId;
        string? tokenClaim = null;
        if (draft.ClientToken is not null)
        {
            string requestHash = JobRequests.HashOf(given);
            string held = await keys.ClaimAsync(KeyScopes.JobClientToken, draft.ClientToken, jobId + "|" + requestHash, cancellationToken);
            string[] parts = held.Split('|');
            if (parts[0] != jobId)
            {
                if (parts.Length < 2 || parts[1] != requestHash)
                {
                    throw SmcException.Conflict(ErrorCodes.ClientTokenReused, "clientToken was used before with different parameters. Use a new clientToken for a different job.");
                }

                if (await jobs.GetAsync(parts[0], cancellationToken) is not null)
                {
                    return new CreatedJob(parts[0], Replayed: true);
                }

                // The earlier call claimed the token but stopped before storing the job: finish it under the same id.
                jobId = parts[0];
            }

            tokenClaim = held;
        }

        ReplicationJob job = jobId == draft.JobId ? draft : JobRequests.Build(request, jobId, draft.CreatedAt, MinInterval);
        string holder = await keys.ClaimAsync(KeyScopes.SourceJob, job.SourceId, jobId, cancellationToken);
        if (holder != jobId)
        {
            if (await jobs.GetAsync(holder, cancellationToken) is { } other && JobStatus.IsUnfinished(other.Value.Status))
            {
                if (tokenClaim is not null)
                {
                    await keys.ReleaseAsync(KeyScopes.JobClientToken, job.ClientToken!, tokenClaim, CancellationToken.None);
                }

                throw SmcException.Conflict(ErrorCodes.SourceHasJob, $"Source server '{job.SourceId}' already has the unfinished job '{holder}'. Finish or delete it first: one unfinished job per source server.");
            }

            // A stale claim (its job is gone or finished): take it over.
            await keys.SetAsync(KeyScopes.SourceJob, job.SourceId, jobId, cancellationToken);
        }

        try
        {
            await jobs.InsertAsync(jobId, job, cancellationToken);
        }
        catch (RecordConflictException) when (tokenClaim is not null)
        {
            return new CreatedJob(jobId, Replayed: true);
        }

        return new CreatedJob(jobId, Replayed: false);
    }

    public async Task<ReplicationJob> GetAsync(string jobId, CancellationToken cancellationToken = default) =>
        WithLag((await jobs.GetAsync(Check(jobId), cancellationToken) ?? throw NotFound(jobId)).Value);

    /// <summary>Every run of a job, newest first, a page at a time: those its record holds and those archived (<see cref="RunArchive"/>).</summary>
    public async Task<Page<ReplicationJobRun>> ListRunsAsync(string jobId, PageRequest page, CancellationToken cancellationToken = default)
    {
        ReplicationJob job = (await jobs.GetAsync(Check(jobId), cancellationToken) ?? throw NotFound(jobId)).Value;
        return page.Apply(await runArchive.AllRunsAsync(job, cancellationToken));
    }

    /// <summary>A copy of the job with the computed <see cref="ReplicationJob.LagSeconds"/> of an incremental job.</summary>
    internal ReplicationJob WithLag(ReplicationJob read)
    {
        ReplicationJob job = read.ShallowCopy();
        DateTimeOffset? newest = job.RunOnce ? null : job.ReplicationJobRuns.Where(r => r.ImageId is not null && r.EndTime is not null).Max(r => r.EndTime);
        job.LagSeconds = newest is null ? null : Math.Round(Math.Max(0, (clock.GetUtcNow() - newest.Value).TotalSeconds), 1);
        return job;
    }

    public async Task<Page<ReplicationJob>> ListAsync(string? status, string? sourceId, string? name, PageRequest page, TagFilter? tags = null, string? waveId = null, CancellationToken cancellationToken = default) =>
        page.Apply(await FilterAsync(status, sourceId, name, tags, waveId, cancellationToken));

    /// <summary>Every job the filters let through, newest first, from the host's view of the jobs (what a page is cut from).</summary>
    public async Task<List<ReplicationJob>> FilterAsync(string? status, string? sourceId, string? name, TagFilter? tags = null, string? waveId = null, CancellationToken cancellationToken = default)
    {
        if (status is not null && !JobStatus.All.Contains(status))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidStatus, $"status must be one of {string.Join(", ", JobStatus.All)}.");
        }

        var all = new List<ReplicationJob>();
        foreach (Stored<ReplicationJob> j in await view.ListAsync(cancellationToken))
        {
            if ((status is null || j.Value.Status == status)
                && (sourceId is null || j.Value.SourceId == sourceId)
                && (name is null || j.Value.Name.Contains(name, StringComparison.OrdinalIgnoreCase))
                && (waveId is null || j.Value.WaveId == waveId)
                && (tags is null || tags.Matches(j.Value.Tags)))
            {
                all.Add(WithLag(j.Value));
            }
        }

        return [.. all.OrderByDescending(j => j.CreatedAt).ThenBy(j => j.JobId, StringComparer.Ordinal)];
    }

    /// <summary>Start from Ready/Stopped/InError launches the orchestration; while Waiting it asks for a round now.</summary>
    public async Task<ReplicationJob> StartAsync(string jobId, CancellationToken cancellationToken = default)
    {
        string previous = "";
        bool syncNow = false;
        int requestedRound = 0;
        DateTimeOffset? notBefore = null;
        Stored<ReplicationJob> stored = await jobs.UpdateAsync(Check(jobId), j =>
        {
            previous = j.Status;
            switch (j.Status)
            {
                case JobStatus.Ready or JobStatus.Stopped or JobStatus.InError:
                    notBefore = j.Status == JobStatus.Ready && j.ScheduledStartTime > clock.GetUtcNow() ? j.ScheduledStartTime : null;
                    j.Status = JobStatus.Running;
                    j.BusinessStatus = BusinessStatus.Preparing;
                    j.ErrorCode = null;
                    j.StatusInfo = new StatusInfo();
                    j.StartTime = clock.GetUtcNow();
                    j.EndTime = null;
                    j.UpdatedAt = clock.GetUtcNow();
                    return true;
                case JobStatus.Waiting:
                    syncNow = true;
                    requestedRound = j.CurrentRound + 1;
                    return false;
                default:
                    throw StatusDenied(j, "start", "Ready, Stopped, InError or Waiting");
            }
        }, cancellationToken) ?? throw NotFound(jobId);

        if (syncNow)
        {
            // The round asked for goes with the request: starts that raced each other (or the interval's timer) ask for
            // the same round, and the orchestration runs it once instead of running one round per request.
            await engine.RaiseEventAsync(jobId, MigrationEvents.SyncNow, requestedRound.ToString(CultureInfo.InvariantCulture), cancellationToken);
            return stored.Value;
        }

        try
        {
            await engine.StartAsync(jobId, notBefore, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await jobs.UpdateAsync(jobId, j =>
            {
                j.Status = previous;
                j.BusinessStatus = null;
                return true;
            }, CancellationToken.None);
            throw new SmcException(503, ErrorCodes.StorageUnavailable, "The orchestration engine could not start the job; nothing changed. Retry in a moment.");
        }

        return stored.Value;
    }

    /// <summary>Stop pauses a job while it is Syncing (SMC's rule).</summary>
    public async Task<ReplicationJob> StopAsync(string jobId, CancellationToken cancellationToken = default)
    {
        Stored<ReplicationJob> stored = await jobs.UpdateAsync(Check(jobId), j =>
        {
            if (j.Status != JobStatus.Running || j.BusinessStatus != BusinessStatus.Syncing)
            {
                throw StatusDenied(j, "stop", "Running in the Syncing stage");
            }

            j.Status = JobStatus.Stopped;
            j.BusinessStatus = null;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw NotFound(jobId);

        await engine.TerminateAsync(jobId, "stopped by operator", cancellationToken);
        await sources.UpdateAsync(stored.Value.SourceId, s => s.ReleaseFrom(jobId), cancellationToken);
        return stored.Value;
    }

    /// <summary>Cutover finishes an incremental job while it is Waiting (with one last round when <c>syncData</c>).</summary>
    public async Task<ReplicationJob> CutoverAsync(string jobId, CutoverRequest request, CancellationToken cancellationToken = default)
    {
        ReplicationJob job = await GetAsync(jobId, cancellationToken);
        if (job.Status != JobStatus.Waiting)
        {
            throw StatusDenied(job, "cut over", "Waiting");
        }

        await engine.RaiseEventAsync(jobId, MigrationEvents.Cutover, request.SyncData ? "true" : "false", cancellationToken);
        return job;
    }

    /// <summary>PATCH: name and description any time; syncInterval and maxNumberOfImageToKeep only while Waiting.</summary>
    public async Task<ReplicationJob> PatchAsync(string jobId, JsonElement patch, CancellationToken cancellationToken = default)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            throw SmcException.BadRequest(ErrorCodes.MalformedJson, "The body must be a JSON object with the fields to change.");
        }

        JobPatch change = JobPatch.Parse(patch, MinInterval);
        if (change.WaveId is { } waveId && await waves.GetAsync(waveId, cancellationToken) is null)
        {
            throw WaveService.NotFound(waveId);
        }

        Stored<ReplicationJob> stored = await jobs.UpdateAsync(Check(jobId), j =>
        {
            change.ApplyTo(j, MinInterval);
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw NotFound(jobId);
        if (change.SyncInterval is { } interval)
        {
            // The orchestration's timer for the next round follows the new interval (it is Waiting: checked when applied).
            await engine.RaiseEventAsync(jobId, MigrationEvents.IntervalChanged, (int)SyncInterval.Parse(interval, MinInterval).TotalSeconds, cancellationToken);
        }

        return stored.Value;
    }

    /// <summary>Delete in any state but Deleting: a running orchestration is terminated and the source released.</summary>
    public async Task DeleteAsync(string jobId, CancellationToken cancellationToken = default)
    {
        string wasStatus = "";
        Stored<ReplicationJob> stored = await jobs.UpdateAsync(Check(jobId), j =>
        {
            if (j.Status == JobStatus.Deleting)
            {
                return false;
            }

            wasStatus = j.Status;
            j.Status = JobStatus.Deleting;
            j.BusinessStatus = null;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw NotFound(jobId);

        await teardown.EndAsync(stored.Value, wasStatus, "job deleted", cancellationToken);
        if (stored.Value.ClientToken is not null)
        {
            await keys.ReleaseAsync(KeyScopes.JobClientToken, stored.Value.ClientToken, cancellationToken: cancellationToken);
        }

        // Re-read after the orchestration ended: an export step that ran meanwhile may have started an upload.
        await AbortCloudUploadsAsync((await jobs.GetAsync(jobId, cancellationToken))?.Value ?? stored.Value, cancellationToken);
        await jobKeys.DeleteAsync(jobId, cancellationToken);
        await runArchive.DeleteAsync(jobId, cancellationToken);
        await jobs.DeleteAsync(jobId, cancellationToken: cancellationToken);
    }

    /// <summary>A deleted job leaves no half-made multipart upload, no disk kept for a retry, and no import running in the cloud (ECS images it made stay: they are the operator's).</summary>
    private async Task AbortCloudUploadsAsync(ReplicationJob job, CancellationToken cancellationToken)
    {
        foreach (CloudExport export in job.ReplicationJobRuns.Select(r => r.Export).OfType<CloudExport>())
        {
            await exportCleanup.AbortAsync(job.JobId, export, forGood: true, cancellationToken);
        }
    }

    /// <summary>409 for an action the job's status doesn't allow (also <see cref="JobPauseService"/>'s).</summary>
    internal static SmcException StatusDenied(ReplicationJob j, string action, string allowed) =>
        SmcException.Conflict(ErrorCodes.JobStatusDenied,
            $"Can't {action} job '{j.JobId}' while it is {j.Status}{(j.BusinessStatus is null ? "" : "/" + j.BusinessStatus)}; allowed when {allowed}.");

    /// <summary>The id when it is a job id's shape, else the 404 a missing job gets (so garbage never reaches storage).</summary>
    internal static string Check(string id) => Ids.IsWellFormed(id, Ids.JobPrefix) ? id : throw NotFound(id);

    internal static SmcException NotFound(string id) =>
        SmcException.NotFound(ErrorCodes.JobNotFound, $"No replication job '{id}'. List them with GET /api/v1/replication-jobs.");
}
