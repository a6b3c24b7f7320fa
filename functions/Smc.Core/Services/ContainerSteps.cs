using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The push of a ContainerImage round: the round's image is a tar layer (the agent's file-level capture: the whole tree,
/// or what changed since the round's <see cref="ReplicationJobRun.LayerBase"/>, with whiteouts); it goes to the job's
/// registry as one gzip layer (compressed while pushed, resumable) on top of the base round's layers, with a config built
/// from the source's architecture and the job's runtime fields, tagged <c>{tag}-r{round}</c> and <c>{tag}</c>.
/// Idempotent: a round already pushed is not pushed again. Refusals the operator must fix come back as <c>Registry.*</c>
/// codes; when the registry lost a base layer, the chain is marked so the next round captures the whole tree.
/// </summary>
public sealed class ContainerSteps(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    ImageService images,
    IContainerRegistry registry,
    RunArchive runArchive,
    TimeProvider clock,
    ILogger<ContainerSteps> logger)
{
    public async Task<ExportStepResult> PushAsync(ExportInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.PushContainerActivity, input.JobId, JobSteps.HostId);
        int round = input.Round ?? throw new ArgumentException("A round is required.", nameof(input));
        ReplicationJob? job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value;
        ReplicationJobRun? run = job?.ReplicationJobRuns.FirstOrDefault(r => r.Round == round);
        if (job is not { TargetType: TargetType.ContainerImage, ContainerRegistry: { Length: > 0 } host } || run?.ImageId is not { } imageId || run.Container is not null)
        {
            return new ExportStepResult(null, null);
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId, cancellationToken))?.Value;
        string repository = $"{job.ContainerNamespace}/{job.ContainerRepository}";
        List<ContainerLayerRecord> below = run.LayerBase is int layerBase
            ? job.ReplicationJobRuns.FirstOrDefault(r => r.Round == layerBase)?.Container?.Layers ?? []
            : [];
        if (run.LayerBase is not null && below.Count == 0)
        {
            return await BaseLostAsync(job, host, repository, $"round {run.LayerBase}, which this round's layer was captured against, has no pushed layers on record", cancellationToken);
        }

        var push = new ContainerPush(host, repository, [$"{job.ContainerTag}-r{round}", job.ContainerTag!], source?.Architecture,
            new ContainerRuntime(job.Entrypoint, job.Cmd, job.Env, job.WorkingDir, job.ExposedPorts, Tags.Merge(source?.Tags, job.Tags)),
            $"smc-serverless: job {job.JobId}, round {round}, source {job.SourceId}",
            [.. below.Select(l => new ContainerLayer(l.Digest, l.Size, l.DiffId, l.CreatedAt, $"smc-serverless: job {job.JobId}, round {l.Round}, source {job.SourceId}"))]);
        try
        {
            ContainerPushed pushed = await registry.PushAsync(push, async ct => (await images.OpenDiskAsync(imageId, "0", "raw", ct)).Content, cancellationToken);
            List<ReplicationJobRun> leaving = [];
            await jobs.UpdateAsync(job.JobId, j =>
            {
                ReplicationJobRun x = j.ReplicationJobRuns.First(r => r.Round == round);
                x.Container = new ContainerPushRecord
                {
                    Registry = host,
                    Repository = repository,
                    Tags = [.. push.Tags],
                    ManifestDigest = pushed.ManifestDigest,
                    LayerDigest = pushed.Layer.Digest,
                    LayerBytes = pushed.Layer.Size,
                    Layers = [.. below, new ContainerLayerRecord { Digest = pushed.Layer.Digest, Size = pushed.Layer.Size, DiffId = pushed.Layer.DiffId, Round = round, CreatedAt = pushed.Layer.Created }],
                    PushedAt = clock.GetUtcNow(),
                };
                leaving = j.BoundRunHistory();
                j.UpdatedAt = clock.GetUtcNow();
                return true;
            }, cancellationToken: cancellationToken);
            await runArchive.KeepAsync(job.JobId, leaving, cancellationToken);
            logger.ContainerPushed(host, repository, string.Join(", ", push.Tags), job.JobId, round, pushed.ManifestDigest, below.Count + 1, pushed.Layer.Size);
            await ApplyRetentionAsync(job.JobId, cancellationToken);
            return new ExportStepResult(null, null);
        }
        catch (CloudRequestException e) when (e.Code == "BLOB_UNKNOWN" && below.Count > 0)
        {
            return await BaseLostAsync(job, host, repository, e.Message, cancellationToken);
        }
        catch (CloudRequestException e) when (e.Code is "PUSH_STALLED" or "TLS_FAILED")
        {
            // The client's bounded retries are spent (a registry that fails every chunk) or can't help (TLS against plain
            // HTTP): the round ends with the code now rather than in the activity's retries. Its image is kept.
            return new ExportStepResult(ErrorCodes.RegistryPrefix + e.Code, $"The push of {repository} to {host} stopped: {e.Message} Then start the job again: the round's image is kept.");
        }
        catch (CloudRequestException e) when (e.UserError && e.Code.StartsWith("ACR.", StringComparison.Ordinal))
        {
            // No temporary login from Alibaba Container Registry: the message says which setting to check.
            return new ExportStepResult(ErrorCodes.RegistryPrefix + e.Code, e.Message + " Then start the job again.");
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new ExportStepResult(ErrorCodes.RegistryPrefix + e.Code,
                $"The registry {host} refused the push of {repository}: {e.Message}. Check the control plane's login (SMC_REGISTRY__USERNAME and SMC_REGISTRY__PASSWORD, or for Alibaba Container Registry the SMC_ALIBABA__ access key) and its push permission on the repository, then start the job again.");
        }
    }

    /// <summary>
    /// Retention as for images: the newest <c>maxNumberOfImageToKeep</c> pushed rounds keep their images in the registry,
    /// older ones are deleted there (manifest and round tag; the layers newer images stand on stay). Best effort: a
    /// registry that doesn't allow deletes keeps them (logged), and a failure never fails the round that was pushed.
    /// </summary>
    private async Task ApplyRetentionAsync(string jobId, CancellationToken cancellationToken)
    {
        ReplicationJob? job = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        if (job is null)
        {
            return;
        }

        List<ReplicationJobRun> pushed = [.. job.ReplicationJobRuns.Where(r => r.Container is { DeletedAt: null }).OrderByDescending(r => r.Round)];
        foreach (ReplicationJobRun old in pushed.Skip(Math.Max(1, job.MaxNumberOfImageToKeep)))
        {
            ContainerPushRecord c = old.Container!;
            try
            {
                if (!await registry.DeleteAsync(c.Registry, c.Repository, c.ManifestDigest, cancellationToken))
                {
                    logger.RegistryKeepsImage(c.Registry, c.Repository, c.ManifestDigest, old.Round, jobId);
                    return;
                }
            }
            catch (CloudRequestException e)
            {
                logger.RegistryDeleteFailed(c.Repository, c.ManifestDigest, old.Round, jobId, c.Registry, e.Message);
                return;
            }

            await jobs.UpdateAsync(jobId, j =>
            {
                if (j.ReplicationJobRuns.FirstOrDefault(r => r.Round == old.Round)?.Container is { } record)
                {
                    record.DeletedAt = clock.GetUtcNow();
                }

                return true;
            }, cancellationToken: cancellationToken);
            logger.RegistryImageDeleted(c.Registry, c.Repository, c.ManifestDigest, old.Round, jobId);
        }
    }

    /// <summary>The layers under this round are gone: no later round builds on the pushed chain, so the next one captures the whole tree.</summary>
    private async Task<ExportStepResult> BaseLostAsync(ReplicationJob job, string host, string repository, string why, CancellationToken cancellationToken)
    {
        await jobs.UpdateAsync(job.JobId, j =>
        {
            foreach (ReplicationJobRun r in j.ReplicationJobRuns.Where(r => r.Container is not null))
            {
                r.Container!.BaseLost = true;
            }

            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken);
        return new ExportStepResult(ErrorCodes.RegistryBaseLost,
            $"This round's image can't be pushed to {host}/{repository}: {why}. Start the job again: its next round captures the whole tree and pushes it as a new base layer.");
    }
}
