using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Smc.Core.Domain;
using Smc.Core.Ports;
using Smc.Core.Services;
using Smc.Integration.Tests.Infrastructure;
using Smc.Storage.Azure;
using Smc.Wire.Agent;

namespace Smc.Integration.Tests;

/// <summary>
/// A job's run history in its own rows (issue 16, item 4): 500 container rounds' worth of runs, bounded in the job
/// record as the control plane does it, leave a record far under a table entity's 1 MiB while every run stays readable
/// from the archive in Azure Tables; the API lists them all, a page at a time; deleting the job removes them.
/// </summary>
public sealed class RunArchiveTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task FiveHundredRounds_RecordStaysSmall_EveryRunIsListed_AndDeletingTheJobRemovesTheArchive()
    {
        ApiClient op = fx.Control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        string sourceId = await Flows.RegisterSourceOverHttpAsync(fx.Control, code, "history-source");
        string jobId = (await op.PostAsync("/api/v1/replication-jobs", new { sourceId, name = "history", maxNumberOfImageToKeep = 3 }))
            .Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();

        using ServiceProvider storage = new ServiceCollection().AddSmcAzureStorage(new StorageOptions { ConnectionString = fx.Storage.ConnectionString }).BuildServiceProvider();
        var archive = new RunArchive(storage.GetRequiredService<IKeyIndex>());

        // The rounds as RoundIssuer and ContainerSteps record them: archive what would leave, add the run, bound, archive.
        var job = new ReplicationJob { JobId = jobId, SourceId = sourceId, Name = "history", MaxNumberOfImageToKeep = 3 };
        List<ContainerLayerRecord> below = [];
        for (int round = 0; round < 500; round++)
        {
            await archive.KeepAsync(jobId, job.RunsOverBound(reserve: 1));
            job.ReplicationJobRuns.Add(new ReplicationJobRun { Round = round, StartTime = DateTimeOffset.UnixEpoch.AddHours(round), LayerBase = round == 0 ? null : round - 1 });
            await archive.KeepAsync(jobId, job.BoundRunHistory());
            ReplicationJobRun run = job.ReplicationJobRuns.Single(r => r.Round == round);
            run.EndTime = run.StartTime.AddMinutes(5);
            run.ImageId = $"i-{round:D16}";
            run.Consistency = new RoundConsistency { Mode = ConsistencyModes.Frozen, Volumes = [new VolumeConsistency { MountPoint = "/", FileSystem = "xfs", Log = "sealed", UsedBlocks = "getfsmap" }] };
            var layer = new ContainerLayerRecord { Digest = "sha256:" + round.ToString("x64"), Size = 1 << 20, DiffId = "sha256:" + new string('b', 64), Round = round, CreatedAt = run.EndTime.Value };
            run.Container = new ContainerPushRecord { Registry = "registry.example", Repository = "team/web", Tags = [$"v1-r{round}", "v1"], ManifestDigest = "sha256:" + new string('c', 64), Layers = [.. below, layer] };
            below = run.Container.Layers;
            await archive.KeepAsync(jobId, job.BoundRunHistory());
        }

        Assert.InRange(JsonSerializer.SerializeToUtf8Bytes(job).Length, 1, 400 << 10);
        Assert.True(job.ReplicationJobRuns.Count <= ReplicationJob.MaxRunsKept + 3, $"{job.ReplicationJobRuns.Count} runs in the record");
        List<ReplicationJobRun> all = await archive.AllRunsAsync(job);
        Assert.Equal(Enumerable.Range(0, 500).Reverse(), all.Select(r => r.Round));
        Assert.All(all, r => Assert.Equal($"i-{r.Round:D16}", r.ImageId));
        Assert.Equal("sealed", all.Single(r => r.Round == 7).Consistency!.Volumes.Single().Log);

        // Through the API, with the stored record holding the bounded runs as the control plane would have left it:
        // the record's runs and the archived ones together, every round once.
        await storage.GetRequiredService<IRecordStore<ReplicationJob>>().UpdateAsync(jobId, j =>
        {
            j.ReplicationJobRuns = job.ReplicationJobRuns;
            return true;
        });
        JsonNode first = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}/runs?pageSize=50")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(500, first["totalCount"]!.GetValue<int>());
        Assert.Equal(Enumerable.Range(450, 50).Reverse(), first["replicationJobRuns"]!.AsArray().Select(r => r!["round"]!.GetValue<int>()));
        JsonNode last = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}/runs?pageSize=50&pageNumber=10")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(0, last["replicationJobRuns"]!.AsArray()[^1]!["round"]!.GetValue<int>());
        (await op.GetAsync("/api/v1/replication-jobs/j-0000000000000000/runs")).ExpectProblem(HttpStatusCode.NotFound, "InvalidJobId.NotFound");

        (await op.DeleteAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.NoContent);
        int left = 0;
        await foreach (ReplicationJobRun _ in archive.ListAsync(jobId))
        {
            left++;
        }

        Assert.Equal(0, left);
    }
}
