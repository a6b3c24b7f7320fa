using Microsoft.Extensions.Options;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Options;
using Smc.Core.Orchestration;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>What an agent may do with its own source's jobs: create one (one-shot migrate), stage, report progress, commit.</summary>
public sealed class AgentJobService(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    ReplicationJobService jobService,
    IStagingStore staging,
    IMigrationEngine engine,
    JobKeys keys,
    IImageStore imageStore,
    IOptions<SecurityOptions> security,
    IRecordStore<Wave> waves,
    TimeProvider clock)
{
    public async Task<ReplicationJob> CreateAndStartAsync(string sourceId, CreateReplicationJobRequest request, CancellationToken cancellationToken = default)
    {
        if (request.SourceId is not null && request.SourceId != sourceId)
        {
            throw SmcException.Forbidden(ErrorCodes.WrongCredentialKind, "An agent can only create jobs for its own source server; leave sourceId out.");
        }

        CreateReplicationJobRequest own = request with { SourceId = sourceId };
        CreatedJob created = await jobService.CreateAsync(own, cancellationToken);
        ReplicationJob job = await jobService.GetAsync(created.JobId, cancellationToken);
        return job.Status is JobStatus.Ready or JobStatus.Stopped or JobStatus.InError
            ? await jobService.StartAsync(created.JobId, cancellationToken)
            : job;
    }

    public async Task<ReplicationJob> GetAsync(string sourceId, string jobId, CancellationToken cancellationToken = default) =>
        (await OwnAsync(sourceId, jobId, cancellationToken)).Value;

    public async Task<StagingCredentials> StagingCredentialsAsync(string sourceId, string jobId, CancellationToken cancellationToken = default)
    {
        ReplicationJob job = (await OwnAsync(sourceId, jobId, cancellationToken)).Value;
        if (job.Status != JobStatus.Running || job.BusinessStatus != BusinessStatus.Syncing)
        {
            throw SmcException.Conflict(ErrorCodes.JobStatusDenied, $"Job '{jobId}' is {job.Status}{(job.BusinessStatus is null ? "" : "/" + job.BusinessStatus)}, not syncing: nothing to upload now.");
        }

        (Uri url, DateTimeOffset expires) = await staging.GetUploadUrlAsync(jobId, TimeSpan.FromMinutes(security.Value.StagingSasMinutes), cancellationToken);
        byte[] fingerprintKey = await keys.EnsureFingerprintKeyAsync(jobId, cancellationToken);
        return new StagingCredentials { ContainerUrl = url.ToString(), ExpiresAt = expires, FingerprintKey = Convert.ToBase64String(fingerprintKey) };
    }

    /// <summary>Records where the round stands; the answer is the job's upload limit now (its schedule, its wave's, its own).</summary>
    public async Task<ProgressAnswer> ProgressAsync(string sourceId, string jobId, ProgressReport report, CancellationToken cancellationToken = default)
    {
        await OwnAsync(sourceId, jobId, cancellationToken);
        Stored<ReplicationJob>? updated = await jobs.UpdateAsync(jobId, j =>
        {
            if (j.Status != JobStatus.Running || j.BusinessStatus != BusinessStatus.Syncing || j.CurrentRound != report.Round)
            {
                return false;
            }

            j.Disks = report.Disks.Select(d => new DiskProgress
            {
                Index = d.Index,
                TotalBytes = Math.Max(0, d.TotalBytes),
                ScannedBytes = Math.Clamp(d.ScannedBytes, 0, Math.Max(0, d.TotalBytes)),
                UploadedBytes = Math.Max(0, d.UploadedBytes),
                SkippedBytes = Math.Max(0, d.SkippedBytes),
            }).ToList();
            long total = j.Disks.Sum(d => d.TotalBytes);
            j.Progress = total == 0 ? 0 : Math.Round(90.0 * j.Disks.Sum(d => d.ScannedBytes) / total, 1);
            j.Throughput = Math.Max(0, report.BytesPerSecond);
            j.EtaSeconds = report.EtaSeconds;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken);

        ReplicationJob job = updated?.Value ?? throw ReplicationJobService.NotFound(jobId);
        Wave? wave = job.WaveId is { } waveId ? (await waves.GetAsync(waveId, cancellationToken))?.Value : null;
        return new ProgressAnswer { BandwidthLimitKBps = BandwidthSchedule.Effective(job, wave, clock.GetUtcNow()) };
    }

    /// <summary>The agent wrote a round's commit marker: check it against staging and let the orchestration go on.</summary>
    /// <summary>A commit marker is a round number and a hash: anything longer is not read.</summary>
    public const int MaxCommitMarkerBytes = 64 << 10;

    public async Task CommitAsync(string sourceId, string jobId, int round, RoundCommitRequest request, CancellationToken cancellationToken = default)
    {
        ReplicationJob job = (await OwnAsync(sourceId, jobId, cancellationToken)).Value;
        if (job.Status != JobStatus.Running || job.BusinessStatus != BusinessStatus.Syncing || job.CurrentRound != round)
        {
            throw SmcException.Conflict(ErrorCodes.RoundNotExpected, $"Job '{jobId}' is not waiting for round {round} (it is {job.Status}{(job.BusinessStatus is null ? "" : "/" + job.BusinessStatus)}, round {job.CurrentRound}).");
        }

        byte[]? markerBytes;
        try
        {
            markerBytes = await staging.ReadAsync(jobId, StagingNames.Commit(round), MaxCommitMarkerBytes, cancellationToken);
        }
        catch (StagingBlobTooLargeException)
        {
            // Not a marker any agent of ours writes: the round ends here, InError, rather than be read.
            string message = $"The commit marker of round {round} is longer than {MaxCommitMarkerBytes} bytes; nothing was read from it or made from the round.";
            await engine.RaiseEventAsync(jobId, MigrationEvents.RoundFailed, new RoundFailure(round, ErrorCodes.CommitTooLarge, message), cancellationToken);
            await sources.UpdateAsync(sourceId, s => s.PendingCommands.RemoveAll(c => c.JobId == jobId && c.Round == round) > 0, cancellationToken);
            throw SmcException.BadRequest(ErrorCodes.CommitTooLarge, message);
        }

        if (markerBytes is null)
        {
            throw SmcException.BadRequest(ErrorCodes.CommitMissing, $"No commit marker for round {round} in staging: upload packs, then the manifest, then {StagingNames.Commit(round)}, then commit.");
        }

        CommitMarker marker;
        try
        {
            marker = StagingJson.Deserialize<CommitMarker>(markerBytes);
        }
        catch (InvalidDataException e)
        {
            throw SmcException.BadRequest(ErrorCodes.CommitMismatch, "The commit marker in staging is not valid: " + e.Message);
        }

        if (marker.Round != round || !string.Equals(marker.ManifestSha256, request.ManifestSha256, StringComparison.Ordinal))
        {
            throw SmcException.BadRequest(ErrorCodes.CommitMismatch, "The commit marker in staging names another manifest than this request; upload the round again.");
        }

        if (request.Consistency is { } consistency)
        {
            // Kept on the round's run as the agent reported it, bounded: it is shown, never acted on.
            RoundConsistency kept = Bounded(consistency);
            await jobs.UpdateAsync(jobId, j =>
            {
                ReplicationJobRun? run = j.ReplicationJobRuns.FirstOrDefault(r => r.Round == round && r.EndTime is null);
                if (run is null)
                {
                    return false;
                }

                run.Consistency = kept;
                return true;
            }, cancellationToken);
        }

        await engine.RaiseEventAsync(jobId, MigrationEvents.RoundCommitted, new RoundCommit(round, marker.ManifestSha256), cancellationToken);

        // The agent's part is done: withdraw the command so it isn't run again.
        await sources.UpdateAsync(sourceId, s => s.PendingCommands.RemoveAll(c => c.JobId == jobId && c.Round == round) > 0, cancellationToken);
    }

    /// <summary>An agent's consistency report as the job record keeps it: known modes only, texts and lists cut to size.</summary>
    internal static RoundConsistency Bounded(RoundConsistency c)
    {
        string[] modes = [ConsistencyModes.Frozen, ConsistencyModes.CrashConsistent, ConsistencyModes.Inconsistent, ConsistencyModes.Offline];
        static string? Cut(string? s, int max) => s is null ? null : s.Length > max ? s[..max] : s;
        return new RoundConsistency
        {
            Mode = modes.Contains(c.Mode) ? c.Mode : ConsistencyModes.Inconsistent,
            Reason = Cut(c.Reason, 500),
            Tracking = c.Tracking is "tracepoints" or "reread" or "none" ? c.Tracking : "none",
            CatchUpPasses = Math.Clamp(c.CatchUpPasses, 0, 1000),
            FreezeRetries = Math.Clamp(c.FreezeRetries, 0, 1000),
            BytesRead = Math.Max(0, c.BytesRead),
            BytesSent = Math.Max(0, c.BytesSent),
            FrozenAt = c.FrozenAt,
            FreezeWindowMs = c.FreezeWindowMs is long ms ? Math.Max(0, ms) : null,
            ChangeDetection = c.ChangeDetection is "tracked" or "scan" ? c.ChangeDetection : null,
            ChangeDetectionReason = Cut(c.ChangeDetectionReason, 500),
            Volumes = [.. (c.Volumes ?? []).Take(32).Select(v => new VolumeConsistency
            {
                Disk = v.Disk,
                StartBytes = v.StartBytes,
                MountPoint = Cut(v.MountPoint, 256) ?? "",
                FileSystem = Cut(v.FileSystem, 32) ?? "",
                Mode = modes.Contains(v.Mode) ? v.Mode : ConsistencyModes.Inconsistent,
                Reason = Cut(v.Reason, 500),
                UsedBlocks = v.UsedBlocks is "getfsmap" ? "getfsmap" : "whole",
                Log = Cut(v.Log, 200),
            })],
        };
    }

    /// <summary>
    /// The agent can't finish the round (an unreadable source region): the orchestration ends the job InError with
    /// the agent's code and message, and the command is withdrawn so the agent doesn't retry it on its own.
    /// </summary>
    public async Task FailRoundAsync(string sourceId, string jobId, int round, RoundFailureRequest request, CancellationToken cancellationToken = default)
    {
        if (!RoundFailureCodes.All.Contains(request.ErrorCode))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFailure, $"errorCode must be one of {string.Join(", ", RoundFailureCodes.All)}.");
        }

        if (string.IsNullOrWhiteSpace(request.Message) || request.Message.Length > 1000)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFailure, "message must say what failed, in 1 to 1000 characters.");
        }

        ReplicationJob job = (await OwnAsync(sourceId, jobId, cancellationToken)).Value;
        if (job.Status != JobStatus.Running || job.BusinessStatus != BusinessStatus.Syncing || job.CurrentRound != round)
        {
            throw SmcException.Conflict(ErrorCodes.RoundNotExpected, $"Job '{jobId}' is not waiting for round {round} (it is {job.Status}{(job.BusinessStatus is null ? "" : "/" + job.BusinessStatus)}, round {job.CurrentRound}).");
        }

        await engine.RaiseEventAsync(jobId, MigrationEvents.RoundFailed, new RoundFailure(round, request.ErrorCode, request.Message), cancellationToken);
        await sources.UpdateAsync(sourceId, s => s.PendingCommands.RemoveAll(c => c.JobId == jobId && c.Round == round) > 0, cancellationToken);
    }

    /// <summary>
    /// The fingerprints of a committed round of the agent's own job (for an agent that lost its local copy): the
    /// <see cref="RoundFingerprints"/> document as it was stored, streamed from the image store (tens of MB for a big disk).
    /// </summary>
    public async Task<Stream> FingerprintsAsync(string sourceId, string jobId, int round, CancellationToken cancellationToken = default)
    {
        ReplicationJob job = (await OwnAsync(sourceId, jobId, cancellationToken)).Value;
        string? imageId = job.ReplicationJobRuns.FirstOrDefault(r => r.Round == round && r.EndTime is not null)?.ImageId;
        return (imageId is null ? null : await imageStore.OpenDocumentAsync(imageId, ImageDocuments.Fingerprints, cancellationToken))
            ?? throw SmcException.NotFound(ErrorCodes.RoundNotFound, $"Round {round} of job '{jobId}' has no kept image, so it has no fingerprints to compare with.");
    }

    /// <summary>The tree listing of a pushed file-level round of the agent's own job (for an agent that lost its local copy).</summary>
    public async Task<byte[]> ListingAsync(string sourceId, string jobId, int round, CancellationToken cancellationToken = default)
    {
        ReplicationJob job = (await OwnAsync(sourceId, jobId, cancellationToken)).Value;
        string? imageId = job.ReplicationJobRuns.FirstOrDefault(r => r.Round == round && r.EndTime is not null)?.ImageId;
        return (imageId is null ? null : await imageStore.GetDocumentAsync(imageId, ImageDocuments.Listing, cancellationToken))
            ?? throw SmcException.NotFound(ErrorCodes.RoundNotFound, $"Round {round} of job '{jobId}' has no kept image with a tree listing to compare with.");
    }

    private async Task<Stored<ReplicationJob>> OwnAsync(string sourceId, string jobId, CancellationToken cancellationToken)
    {
        Stored<ReplicationJob>? job = Ids.IsWellFormed(jobId, Ids.JobPrefix) ? await jobs.GetAsync(jobId, cancellationToken) : null;
        return job is not null && job.Value.SourceId == sourceId
            ? job
            : throw SmcException.NotFound(ErrorCodes.JobNotFound, $"No replication job '{jobId}' for this source server.");
    }
}
