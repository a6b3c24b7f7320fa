using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Images;
using Smc.Core.Options;
using Smc.Core.Orchestration;
using Smc.Core.Ports;
using Smc.Wire.Agent;

namespace Smc.Core.Services;

/// <summary>
/// The first and last of a round's steps: issue the round to the agent (which round, against which base, with what
/// parameters), check on it while the agent copies, and clear the job's staging when the job ends. Every step is
/// idempotent.
/// </summary>
public sealed class RoundIssuer(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    IRecordStore<LocalImage> images,
    IStagingStore staging,
    IImageStore imageStore,
    JobKeys keys,
    CommandSignals signals,
    RunArchive runArchive,
    CommittedRounds rounds,
    IRecordStore<Wave> waves,
    IOptions<ControlPlaneOptions> options,
    TimeProvider clock,
    ILogger<RoundIssuer> logger)
{
    public async Task<PrepareRoundResult> PrepareRoundAsync(PrepareRoundInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.PrepareRoundActivity, input.JobId, JobSteps.HostId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value;
        if (job is null || job.Status != JobStatus.Running)
        {
            return new PrepareRoundResult(false, ErrorCodes.RoundJobNotRunning, "The job is no longer running.");
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId, cancellationToken))?.Value;
        bool container = job.TargetType == TargetType.ContainerImage;
        if (source is null || (source.Disks.Count == 0 && !container))
        {
            return new PrepareRoundResult(false, ErrorCodes.RoundSourceNoDisks, $"Source server '{job.SourceId}' reported no disks. Check 'smc-agent inspect' on it and register again with --disk.");
        }

        // A container round reads the root file system file by file (one tar stream), not its disks.
        var disks = container ? [TreeDevice.Root] : new List<string> { source.Disks[0].Device };
        foreach (DataDiskSpec d in container ? Enumerable.Empty<DataDiskSpec>() : job.DataDisks.OrderBy(d => d.Index))
        {
            if (d.Index >= source.Disks.Count)
            {
                return new PrepareRoundResult(false, ErrorCodes.InvalidDataDisks, $"dataDisks index {d.Index} does not exist: the source has {source.Disks.Count} disk(s) (index 1 is its second disk).");
            }

            disks.Add(source.Disks[d.Index].Device);
        }

        // The round: an unfinished one again (stopped, failed, or interrupted), else the next. Its base: the newest round
        // that became an image still kept, so the agent sends only what changed since.
        ReplicationJobRun? open = job.ReplicationJobRuns.Where(r => r.EndTime is null).MaxBy(r => r.Round);
        int round = open?.Round ?? (job.ReplicationJobRuns.Count == 0 ? 0 : job.ReplicationJobRuns.Max(r => r.Round) + 1);
        // A container job with a registry: each round is a layer on top of the newest pushed round's image, holding what
        // changed since its listing (kept beside its image). Its tar is new content, so no block base. Without a listing
        // to compare with (the base's image is gone), the layer holds the whole tree and the image starts anew from it.
        int? baseRound = null, layerBase = null;
        if (!container || string.IsNullOrEmpty(job.ContainerRegistry))
        {
            ReplicationJobRun? lastDone = job.ReplicationJobRuns.Where(r => r.EndTime is not null && r.ImageId is not null && r.Round < round).MaxBy(r => r.Round);
            baseRound = lastDone is not null && await images.GetAsync(lastDone.ImageId!, cancellationToken: cancellationToken) is not null
                && await imageStore.DocumentExistsAsync(lastDone.ImageId!, ImageDocuments.Fingerprints, cancellationToken)
                && await imageStore.DocumentExistsAsync(lastDone.ImageId!, ImageDiskMap.DocumentName(0), cancellationToken) ? lastDone.Round : null;
        }
        else
        {
            ReplicationJobRun? pushed = job.ReplicationJobRuns.Where(r => r.EndTime is not null && r.Container is { BaseLost: false } && r.ImageId is not null && r.Round < round).MaxBy(r => r.Round);
            layerBase = open is not null ? open.LayerBase
                : pushed is not null && await imageStore.DocumentExistsAsync(pushed.ImageId!, ImageDocuments.Listing, cancellationToken) ? pushed.Round : null;
        }

        string publicKey = await keys.EnsurePublicKeyAsync(job.JobId, cancellationToken);
        await staging.EnsureAsync(job.JobId, cancellationToken);
        var command = new AgentCommand
        {
            CommandId = $"{job.JobId}-r{round}",
            Type = AgentCommandTypes.Replicate,
            JobId = job.JobId,
            Round = round,
            BaseRound = baseRound,
            PublicKey = publicKey,
            ChunkSize = ChunkGrid.Default,
            Threads = job.ReplicationParameters.Threads ?? 0,
            BandwidthLimitKBps = BandwidthSchedule.Effective(job, job.WaveId is { } waveId ? (await waves.GetAsync(waveId, cancellationToken))?.Value : null, clock.GetUtcNow()),
            CompressLevel = job.ReplicationParameters.CompressLevel,
            FreezeWindowSeconds = job.ReplicationParameters.FreezeWindowSeconds,
            PreFreezeCommand = job.ReplicationParameters.PreFreezeCommand,
            PostThawCommand = job.ReplicationParameters.PostThawCommand,
            HookTimeoutSeconds = job.ReplicationParameters.HookTimeoutSeconds,
            ContinueOnHookFailure = job.ReplicationParameters.ContinueOnHookFailure,
            Disks = disks,
            LayerBase = layerBase,
            ExcludePaths = container ? job.ExcludePaths : [],
            IncludePaths = container ? job.IncludePaths : [],
        };
        DateTimeOffset now = clock.GetUtcNow();
        // Runs the new one pushes out of the record go to the archive first: a crash after the update loses none.
        await runArchive.KeepAsync(job.JobId, job.RunsOverBound(reserve: 1), cancellationToken);
        List<ReplicationJobRun> leaving = [];
        await jobs.UpdateAsync(job.JobId, j =>
        {
            j.BusinessStatus = BusinessStatus.Syncing;
            if (j.CurrentRound != round)
            {
                // A new round: the previous round's counters no longer describe anything (a resumed round keeps its own).
                j.Disks = [];
                j.Throughput = 0;
            }

            j.CurrentRound = round;
            j.StatusInfo = new StatusInfo();
            j.Progress = 0;
            j.EtaSeconds = null;
            if (j.ReplicationJobRuns.FirstOrDefault(r => r.Round == round) is { } existing)
            {
                existing.Final |= input.Final;
            }
            else
            {
                j.ReplicationJobRuns.Add(new ReplicationJobRun { Round = round, Type = input.Type, StartTime = now, Final = input.Final, LayerBase = layerBase });
                leaving = j.BoundRunHistory();
            }

            j.UpdatedAt = now;
            return true;
        }, cancellationToken: cancellationToken);
        await runArchive.KeepAsync(job.JobId, leaving, cancellationToken);

        // The command goes out only once the job says Syncing: an agent that takes it at once (a long poll is woken
        // here) asks for staging credentials next, and those are refused to a job still Preparing (seen in CI: the
        // round's command failed and came back 30 s later). A crash before this line re-runs the activity, which
        // publishes it then.
        await sources.UpdateAsync(job.SourceId, s =>
        {
            s.PendingCommands.RemoveAll(c => c.CommandId == command.CommandId || c.JobId == job.JobId);
            s.PendingCommands.Add(command);
            return true;
        }, cancellationToken: cancellationToken);
        signals.Notify(job.SourceId);
        return new PrepareRoundResult(true, null, null, round);
    }

    public async Task<CheckSyncResult> CheckSyncAsync(CheckSyncInput input, CancellationToken cancellationToken)
    {
        ReplicationJob? job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value;
        if (job is not { Status: JobStatus.Running, BusinessStatus: BusinessStatus.Syncing })
        {
            return new CheckSyncResult(SyncOutcome.JobGone, null, null);
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId, cancellationToken))?.Value;
        TimeSpan lostAfter = TimeSpan.FromSeconds(options.Value.SyncLostAfterSeconds);
        if (source is null)
        {
            return new CheckSyncResult(SyncOutcome.Lost, ErrorCodes.RoundSourceGone, $"Source server '{job.SourceId}' was deleted during the copy.");
        }

        if (source.State == SourceState.Unavailable && source.LastHeartbeat < clock.GetUtcNow() - lostAfter)
        {
            return new CheckSyncResult(SyncOutcome.Lost, ErrorCodes.HeartbeatLost,
                $"The agent on '{job.SourceId}' has been silent since {source.LastHeartbeat:u}. Restart it (systemctl restart smc-agent), then start the job again: uploaded data is kept and not sent twice.");
        }

        return new CheckSyncResult(SyncOutcome.Continue, null, null);
    }

    public async Task<bool> PurgeStagingAsync(string jobId, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.PurgeStagingActivity, jobId, JobSteps.HostId);
        ReplicationJob? job = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        await staging.DeleteAsync(jobId, cancellationToken);
        rounds.Forget(jobId);
        if (job is not null)
        {
            await sources.UpdateAsync(job.SourceId, s => s.PendingCommands.RemoveAll(c => c.JobId == jobId) > 0, cancellationToken: cancellationToken);
        }

        return true;
    }
}
