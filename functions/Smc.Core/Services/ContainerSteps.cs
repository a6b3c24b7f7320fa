using Microsoft.Extensions.Logging;
using Smc.Core.Domain;
using Smc.Core.Orchestration;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The push of a ContainerImage round: the round's image is the root tree's tar (the agent's file-level capture); it
/// goes to the job's registry as one gzip layer (compressed while pushed, resumable), with a config built from the
/// source's architecture and the job's runtime fields, tagged <c>{tag}-r{round}</c> and <c>{tag}</c>. Idempotent: a
/// round already pushed is not pushed again. Refusals the operator must fix come back as <c>Registry.*</c> codes.
/// </summary>
public sealed class ContainerSteps(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<SourceServer> sources,
    ImageService images,
    IContainerRegistry registry,
    TimeProvider clock,
    ILogger<ContainerSteps> logger)
{
    public async Task<ExportStepResult> PushAsync(ExportInput input)
    {
        logger.LogInformation("Activity {Activity} for {JobId} on host {HostId}", TaskNames.PushContainerActivity, input.JobId, JobSteps.HostId);
        int round = input.Round ?? throw new ArgumentException("A round is required.", nameof(input));
        ReplicationJob? job = (await jobs.GetAsync(input.JobId))?.Value;
        ReplicationJobRun? run = job?.ReplicationJobRuns.FirstOrDefault(r => r.Round == round);
        if (job is not { TargetType: TargetType.ContainerImage, ContainerRegistry: { Length: > 0 } host } || run?.ImageId is not { } imageId || run.Container is not null)
        {
            return new ExportStepResult(null, null);
        }

        SourceServer? source = (await sources.GetAsync(job.SourceId))?.Value;
        string repository = $"{job.ContainerNamespace}/{job.ContainerRepository}";
        var push = new ContainerPush(host, repository, [$"{job.ContainerTag}-r{round}", job.ContainerTag!], source?.Architecture,
            new ContainerRuntime(job.Entrypoint, job.Cmd, job.Env, job.WorkingDir, job.ExposedPorts),
            $"smc-serverless: job {job.JobId}, round {round}, source {job.SourceId}");
        try
        {
            ContainerPushed pushed = await registry.PushAsync(push, async ct => (await images.OpenDiskAsync(imageId, "0", "raw", ct)).Content);
            await jobs.UpdateAsync(job.JobId, j =>
            {
                ReplicationJobRun x = j.ReplicationJobRuns.First(r => r.Round == round);
                x.Container = new ContainerPushRecord
                {
                    Registry = host,
                    Repository = repository,
                    Tags = [.. push.Tags],
                    ManifestDigest = pushed.ManifestDigest,
                    LayerDigest = pushed.LayerDigest,
                    LayerBytes = pushed.LayerBytes,
                    PushedAt = clock.GetUtcNow(),
                };
                j.UpdatedAt = clock.GetUtcNow();
                return true;
            });
            logger.LogInformation("Pushed {Registry}/{Repository} {Tags} for {JobId} round {Round}: {Digest} (layer {Bytes} bytes)", host, repository, string.Join(", ", push.Tags), job.JobId, round, pushed.ManifestDigest, pushed.LayerBytes);
            return new ExportStepResult(null, null);
        }
        catch (CloudRequestException e) when (e.UserError)
        {
            return new ExportStepResult("Registry." + e.Code,
                $"The registry {host} refused the push of {repository}: {e.Message}. Check SMC_REGISTRY__USERNAME and SMC_REGISTRY__PASSWORD on the control plane and the login's push permission on the repository, then start the job again.");
        }
    }
}
