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
    IStagingStore staging,
    JobKeys jobKeys,
    Microsoft.Extensions.Options.IOptions<Smc.Core.Options.ControlPlaneOptions> options,
    ICloudImages cloud,
    IRegistryAllowList registries,
    RunArchive runArchive,
    TimeProvider clock)
{
    private static readonly JsonSerializerOptions HashJson = new(JsonSerializerDefaults.Web);

    private TimeSpan MinInterval => TimeSpan.FromSeconds(options.Value.MinSyncIntervalSeconds);

    public async Task<CreatedJob> CreateAsync(CreateReplicationJobRequest request, CancellationToken cancellationToken = default)
    {
        ReplicationJob draft = BuildJob(request, Ids.New(Ids.JobPrefix), clock.GetUtcNow(), MinInterval);
        if (draft.ContainerRegistry is { } registry && !registries.Allows(registry))
        {
            throw SmcException.Forbidden(ErrorCodes.RegistryNotAllowed, $"containerRegistry {registry} is not a registry this control plane pushes to (the operator chooses them): {registries.HowToAllow}.");
        }

        if (draft.ImageProvider == ImageProvider.Alibaba && draft.TargetType == TargetType.Image && !cloud.IsConfigured)
        {
            throw SmcException.BadRequest(ErrorCodes.AlibabaNotConfigured,
                "imageProvider alibaba needs an Alibaba Cloud account on the control plane: set SMC_ALIBABA__ACCESSKEYID, SMC_ALIBABA__ACCESSKEYSECRET and SMC_ALIBABA__OSSBUCKET (a bucket in the job's region), or use imageProvider local.");
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
            string requestHash = HashOf(request);
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

        ReplicationJob job = jobId == draft.JobId ? draft : BuildJob(request, jobId, draft.CreatedAt, MinInterval);
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

    /// <summary>Sets the computed <see cref="ReplicationJob.LagSeconds"/> of an incremental job.</summary>
    internal ReplicationJob WithLag(ReplicationJob job)
    {
        DateTimeOffset? newest = job.RunOnce ? null : job.ReplicationJobRuns.Where(r => r.ImageId is not null && r.EndTime is not null).Max(r => r.EndTime);
        job.LagSeconds = newest is null ? null : Math.Round(Math.Max(0, (clock.GetUtcNow() - newest.Value).TotalSeconds), 1);
        return job;
    }

    public async Task<Page<ReplicationJob>> ListAsync(string? status, string? sourceId, string? name, PageRequest page, CancellationToken cancellationToken = default)
    {
        if (status is not null && !JobStatus.All.Contains(status))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidStatus, $"status must be one of {string.Join(", ", JobStatus.All)}.");
        }

        var all = new List<ReplicationJob>();
        await foreach (Stored<ReplicationJob> j in jobs.ListAsync(cancellationToken))
        {
            if ((status is null || j.Value.Status == status)
                && (sourceId is null || j.Value.SourceId == sourceId)
                && (name is null || j.Value.Name.Contains(name, StringComparison.OrdinalIgnoreCase)))
            {
                WithLag(j.Value);
                all.Add(j.Value);
            }
        }

        return page.Apply(all.OrderByDescending(j => j.CreatedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).ToList());
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
        await ReleaseSourceAsync(stored.Value, cancellationToken);
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

        string? name = null, description = null, interval = null;
        int? keep = null;
        foreach (JsonProperty p in patch.EnumerateObject())
        {
            switch (p.Name)
            {
                case "name":
                    name = Validate.Name(StringOf(p));
                    break;
                case "description":
                    description = Validate.Description(StringOf(p)) ?? "";
                    break;
                case "syncInterval":
                    interval = StringOf(p);
                    _ = SyncInterval.Parse(interval, MinInterval);
                    break;
                case "maxNumberOfImageToKeep":
                    keep = Validate.Range(p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int k) ? k : -1, 1, 10, 1, ErrorCodes.InvalidMaxNumberOfImageToKeep, "maxNumberOfImageToKeep");
                    break;
                default:
                    if (typeof(ReplicationJob).GetProperties().Any(x => JsonNamingPolicy.CamelCase.ConvertName(x.Name) == p.Name))
                    {
                        throw SmcException.BadRequest(ErrorCodes.ReadOnlyField, $"'{p.Name}' can't be changed after creation. PATCH accepts name, description, syncInterval and maxNumberOfImageToKeep.");
                    }

                    throw SmcException.BadRequest(ErrorCodes.UnknownField, $"Unknown field '{p.Name}'. PATCH accepts name, description, syncInterval and maxNumberOfImageToKeep.");
            }
        }

        Stored<ReplicationJob> stored = await jobs.UpdateAsync(Check(jobId), j =>
        {
            if ((interval is not null || keep is not null) && j.Status != JobStatus.Waiting)
            {
                throw StatusDenied(j, "change syncInterval or maxNumberOfImageToKeep", "Waiting");
            }

            if (interval is not null && j.RunOnce)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "syncInterval applies to incremental jobs (runOnce: false) only.");
            }

            if (interval is not null && j.NextRoundTime is { } next && j.SyncInterval is not null)
            {
                // The wait under way is measured anew from its start: next = start of the wait + the new interval.
                j.NextRoundTime = next - SyncInterval.Parse(j.SyncInterval, TimeSpan.Zero) + SyncInterval.Parse(interval, MinInterval);
            }

            j.Name = name ?? j.Name;
            j.Description = description ?? j.Description;
            j.SyncInterval = interval ?? j.SyncInterval;
            j.MaxNumberOfImageToKeep = keep ?? j.MaxNumberOfImageToKeep;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw NotFound(jobId);
        if (interval is not null)
        {
            // The orchestration's timer for the next round follows the new interval (it is Waiting: checked above).
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

        if (wasStatus is JobStatus.Running or JobStatus.Waiting or JobStatus.Deleting or "")
        {
            await engine.TerminateAsync(jobId, "job deleted", cancellationToken);
        }

        await ReleaseSourceAsync(stored.Value, cancellationToken);
        await keys.ReleaseAsync(KeyScopes.SourceJob, stored.Value.SourceId, jobId, cancellationToken);
        if (stored.Value.ClientToken is not null)
        {
            await keys.ReleaseAsync(KeyScopes.JobClientToken, stored.Value.ClientToken, cancellationToken: cancellationToken);
        }

        await staging.DeleteAsync(jobId, cancellationToken);

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
            if (export is { Status: CloudExportStatus.Importing, TaskId: { } taskId })
            {
                try
                {
                    await cloud.CancelImportAsync(export.RegionId, taskId, cancellationToken);
                }
                catch (CloudRequestException)
                {
                    // Best effort, as below.
                }
            }

            foreach (CloudExportDisk disk in export.Disks)
            {
                var target = new CloudObject(export.RegionId, disk.Bucket, disk.Key);
                try
                {
                    if (disk.UploadId is not null)
                    {
                        await cloud.AbortUploadAsync(target, disk.UploadId, cancellationToken);
                    }
                    else if (disk.Uploaded && export.Status != CloudExportStatus.Available && !cloud.KeepObjects)
                    {
                        // A whole disk kept for a retried import that will not come.
                        await cloud.DeleteObjectAsync(target, cancellationToken);
                    }
                }
                catch (CloudRequestException)
                {
                    // Best effort: an OSS lifecycle rule for incomplete uploads is the backstop (docs/adr/0006).
                }
            }
        }
    }

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

            if (was is JobStatus.Running or JobStatus.Waiting)
            {
                await engine.TerminateAsync(jobId, "validTime passed", cancellationToken);
            }

            await ReleaseSourceAsync(stored.Value, cancellationToken);
            await keys.ReleaseAsync(KeyScopes.SourceJob, stored.Value.SourceId, jobId, cancellationToken);
            await staging.DeleteAsync(jobId, cancellationToken);
            expired++;
        }

        return expired;
    }

    private static bool IsEnded(string status) => status is JobStatus.Finished or JobStatus.Expired or JobStatus.Deleting;

    private async Task ReleaseSourceAsync(ReplicationJob job, CancellationToken cancellationToken) =>
        await sources.UpdateAsync(job.SourceId, s => s.ReleaseFrom(job.JobId), cancellationToken);

    internal static ReplicationJob BuildJob(CreateReplicationJobRequest r, string jobId, DateTimeOffset now, TimeSpan? minInterval = null)
    {
        if (string.IsNullOrWhiteSpace(r.SourceId))
        {
            throw SmcException.BadRequest(ErrorCodes.MissingParameter, "sourceId is required: the id (s-…) of a registered source server.");
        }

        if (!Ids.IsWellFormed(r.SourceId, Ids.SourcePrefix))
        {
            throw SmcException.NotFound(ErrorCodes.SourceNotFound, $"'{r.SourceId}' is not a source server id (s- followed by 16 characters).");
        }

        string name = Validate.Name(r.Name);
        string targetType = r.TargetType ?? TargetType.Image;
        if (targetType is not (TargetType.Image or TargetType.ContainerImage))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidTargetType, "targetType must be Image or ContainerImage.");
        }

        string provider = r.ImageProvider ?? ImageProvider.Local;
        if (provider is not (ImageProvider.Local or ImageProvider.Alibaba))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidImageProvider, "imageProvider must be local (the embedded default) or alibaba.");
        }

        if (provider == ImageProvider.Alibaba && targetType == TargetType.Image && string.IsNullOrWhiteSpace(r.RegionId))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidRegionId, "regionId is required for imageProvider alibaba, e.g. cn-hangzhou.");
        }

        if (r.RegionId is not null && (r.RegionId.Length > 64 || !r.RegionId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidRegionId, "regionId must be a region id such as cn-hangzhou.");
        }

        if (r.ImageName is not null)
        {
            _ = Validate.Name(r.ImageName, ErrorCodes.InvalidImageName, "imageName");
        }

        CheckLaunch(r, provider, targetType);
        CheckRuntime(r, targetType);

        if (r.SystemDiskSize is { } gib && gib is < 1 or > 32768)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidSystemDiskSize, "systemDiskSize is in GiB and must be from 1 to 32768.");
        }

        if (r.SystemDiskParts is { } parts && (parts.Count > 128 || parts.Any(p => p.SizeBytes <= 0 || string.IsNullOrWhiteSpace(p.Device))))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidSystemDiskParts, "systemDiskParts: each needs a device and a sizeBytes greater than 0.");
        }

        if (r.DataDisks is { } disks && (disks.Count > 16 || disks.Any(d => d.Index < 1 || d.Size is < 1 or > 32768 || d.Parts.Any(p => p.SizeBytes <= 0 || string.IsNullOrWhiteSpace(p.Device)))
            || disks.Select(d => d.Index).Distinct().Count() != disks.Count))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidDataDisks, "dataDisks: at most 16, distinct index ≥ 1, size 1–32768 GiB, parts with a device and sizeBytes > 0.");
        }

        bool runOnce = r.RunOnce ?? true;
        if (!runOnce && r.SyncInterval is null)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "syncInterval is required when runOnce is false, e.g. PT1H.");
        }

        if (r.SyncInterval is not null)
        {
            if (runOnce)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "syncInterval applies to incremental jobs only: set runOnce to false or leave syncInterval out.");
            }

            _ = SyncInterval.Parse(r.SyncInterval, minInterval);
        }

        int keep = Validate.Range(r.MaxNumberOfImageToKeep, 1, 10, 1, ErrorCodes.InvalidMaxNumberOfImageToKeep, "maxNumberOfImageToKeep");
        if (r.ScheduledStartTime is { } at && (at < now.AddMinutes(-1) || at > now.AddDays(30)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidScheduledStartTime, "scheduledStartTime must be in the next 30 days (ISO-8601 with a time zone, e.g. 2026-12-01T02:00:00Z).");
        }

        if (r.ValidTime is { } until)
        {
            if (runOnce)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidValidTime, "validTime applies to incremental jobs only: set runOnce to false or leave validTime out.");
            }

            // Sooner than one interval after the start would expire the job before its first incremental round.
            DateTimeOffset earliest = (r.ScheduledStartTime > now ? r.ScheduledStartTime.Value : now) + (minInterval ?? SyncInterval.Min);
            if (until < earliest || until > now.AddDays(90))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidValidTime,
                    $"validTime must be at least one syncInterval floor ({(minInterval ?? SyncInterval.Min).TotalSeconds:0} s) after the start and at most 90 days from now (ISO-8601 with a time zone).");
            }
        }

        ReplicationParameters rp = r.ReplicationParameters ?? new ReplicationParameters();
        if (rp.Threads is < 1 or > 64 || rp.BandwidthLimitKBps is < 0 or > 10_000_000 || rp.CompressLevel is < 0 or > 22)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, "replicationParameters: threads 1–64, bandwidthLimitKBps 0 (unlimited)–10000000, compressLevel 0 (off)–22.");
        }

        if (rp.FreezeWindowSeconds is < 1 or > 60 || rp.HookTimeoutSeconds is < 1 or > 3600 || rp.PreFreezeCommand?.Length > 4096 || rp.PostThawCommand?.Length > 4096
            || rp.PreFreezeCommand?.Contains('\0', StringComparison.Ordinal) == true || rp.PostThawCommand?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, "replicationParameters: freezeWindowSeconds 1–60, hookTimeoutSeconds 1–3600, preFreezeCommand and postThawCommand at most 4096 characters.");
        }

        if (targetType == TargetType.ContainerImage
            && (string.IsNullOrWhiteSpace(r.ContainerNamespace) || string.IsNullOrWhiteSpace(r.ContainerRepository) || string.IsNullOrWhiteSpace(r.ContainerTag)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidContainer, "targetType ContainerImage needs containerNamespace, containerRepository and containerTag.");
        }

        string? registry = null;
        if (r.ContainerRegistry is not null)
        {
            registry = RegistryHost.Normalize(r.ContainerRegistry, out string? registryError)
                ?? throw SmcException.BadRequest(ErrorCodes.InvalidContainerRegistry, $"containerRegistry: {registryError}, e.g. registry.cn-hangzhou.aliyuncs.com or 10.0.0.5:5000.");
        }

        if (r.ClientToken is not null && (r.ClientToken.Length is 0 or > 64 || !r.ClientToken.All(char.IsAsciiLetterOrDigit) && r.ClientToken.Any(c => c < 0x21 || c > 0x7e)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidClientToken, "clientToken must be 1–64 printable ASCII characters.");
        }

        return new ReplicationJob
        {
            JobId = jobId,
            SourceId = r.SourceId,
            Name = name,
            Description = Validate.Description(r.Description),
            TargetType = targetType,
            ImageProvider = provider,
            RegionId = r.RegionId,
            ImageName = r.ImageName?.Trim(),
            SystemDiskSize = r.SystemDiskSize,
            SystemDiskParts = r.SystemDiskParts ?? [],
            DataDisks = r.DataDisks ?? [],
            RunOnce = runOnce,
            SyncInterval = r.SyncInterval,
            MaxNumberOfImageToKeep = keep,
            ScheduledStartTime = r.ScheduledStartTime,
            ValidTime = r.ValidTime,
            ReplicationParameters = rp,
            ContainerNamespace = r.ContainerNamespace,
            ContainerRepository = r.ContainerRepository,
            ContainerTag = r.ContainerTag,
            ContainerRegistry = registry,
            Entrypoint = r.Entrypoint ?? [],
            Cmd = r.Cmd ?? [],
            Env = r.Env ?? [],
            WorkingDir = r.WorkingDir,
            ExposedPorts = r.ExposedPorts ?? [],
            ExcludePaths = r.ExcludePaths ?? [],
            IncludePaths = r.IncludePaths ?? [],
            LaunchTemplateId = r.LaunchTemplateId,
            LaunchTemplateVersion = r.LaunchTemplateVersion,
            InstanceType = r.InstanceType,
            VSwitchId = r.VSwitchId,
            SecurityGroupId = r.SecurityGroupId,
            ClientToken = r.ClientToken,
            Status = JobStatus.Ready,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary>ContainerImage only: entrypoint/cmd/env (at most 64 items of 4096 characters), working dir, ports (1–65535[/tcp|/udp]).</summary>
    private static void CheckRuntime(CreateReplicationJobRequest r, string targetType)
    {
        List<string>?[] lists = [r.Entrypoint, r.Cmd, r.Env, r.ExposedPorts, r.ExcludePaths, r.IncludePaths];
        if (lists.All(l => l is null) && r.WorkingDir is null)
        {
            return;
        }

        static bool PathOk(string p) =>
            p.StartsWith('/') && p.TrimEnd('/').Length > 0 && !p.Contains('\0', StringComparison.Ordinal)
            && p.Split('/', StringSplitOptions.RemoveEmptyEntries).All(part => part is not ("." or ".."));

        bool PortOk(string p)
        {
            string[] parts = p.Split('/');
            return parts.Length <= 2 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 65535
                && (parts.Length == 1 || parts[1] is "tcp" or "udp");
        }

        if (targetType != TargetType.ContainerImage
            || lists.Any(l => l is not null && (l.Count > 64 || l.Any(x => string.IsNullOrEmpty(x) || x.Length > 4096)))
            || (r.Env?.Any(e => !e.Contains('=', StringComparison.Ordinal)) ?? false)
            || (r.ExposedPorts?.Any(p => !PortOk(p)) ?? false)
            || (r.WorkingDir is not null && (!r.WorkingDir.StartsWith('/') || r.WorkingDir.Length > 4096))
            || new[] { r.ExcludePaths, r.IncludePaths }.Any(l => l?.Any(p => !PathOk(p)) ?? false))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidContainer,
                "entrypoint, cmd, env (NAME=value), workingDir (absolute), exposedPorts (e.g. 8080 or 53/udp), excludePaths and includePaths (absolute, no '.' or '..' parts, not '/') apply to targetType ContainerImage; at most 64 items each.");
        }
    }

    /// <summary>A test launch (provider alibaba only): a launch template, or instance type + vSwitch + security group; ids as ECS writes them.</summary>
    private static void CheckLaunch(CreateReplicationJobRequest r, string provider, string targetType)
    {
        string?[] fields = [r.LaunchTemplateId, r.LaunchTemplateVersion, r.InstanceType, r.VSwitchId, r.SecurityGroupId];
        if (fields.All(f => f is null))
        {
            return;
        }

        const string Shape = "A test launch takes launchTemplateId (and optionally launchTemplateVersion), or instanceType, vSwitchId and securityGroupId, with imageProvider alibaba.";
        if (provider != ImageProvider.Alibaba || targetType != TargetType.Image
            || fields.Any(f => f is not null && (f.Length is 0 or > 128 || !f.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
            || (r.LaunchTemplateId is null && (r.LaunchTemplateVersion is not null || r.InstanceType is null || r.VSwitchId is null || r.SecurityGroupId is null)))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidLaunch, Shape);
        }
    }

    private static string HashOf(CreateReplicationJobRequest r) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(r, HashJson))))[..32];

    private static string? StringOf(JsonProperty p) =>
        p.Value.ValueKind switch
        {
            JsonValueKind.String => p.Value.GetString(),
            JsonValueKind.Null => null,
            _ => throw SmcException.BadRequest(ErrorCodes.MalformedJson, $"'{p.Name}' must be a string."),
        };

    private static SmcException StatusDenied(ReplicationJob j, string action, string allowed) =>
        SmcException.Conflict(ErrorCodes.JobStatusDenied,
            $"Can't {action} job '{j.JobId}' while it is {j.Status}{(j.BusinessStatus is null ? "" : "/" + j.BusinessStatus)}; allowed when {allowed}.");

    private static string Check(string id) => Ids.IsWellFormed(id, Ids.JobPrefix) ? id : throw NotFound(id);

    private static SmcException NotFound(string id) =>
        SmcException.NotFound(ErrorCodes.JobNotFound, $"No replication job '{id}'. List them with GET /api/v1/replication-jobs.");
}
