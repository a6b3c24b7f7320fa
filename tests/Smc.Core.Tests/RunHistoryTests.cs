using System.Text.Json;
using Smc.Core.Domain;
using Smc.Wire.Agent;

namespace Smc.Core.Tests;

/// <summary>
/// A job record after 500 container rounds (each pushing one more layer, as ContainerSteps records it, with a
/// consistency report per run) stays far below a table entity's 1 MiB, keeps its kept images' runs, the newest push's
/// whole layer list and the newest runs.
/// </summary>
public sealed class RunHistoryTests
{
    [Fact]
    public void FiveHundredContainerRounds_RecordStaysSmall_KeepsWhatIsStillUsed()
    {
        var job = new ReplicationJob { JobId = "j-aaaaaaaaaaaaaaaa", SourceId = "s-aaaaaaaaaaaaaaaa", Name = "web", MaxNumberOfImageToKeep = 3 };
        List<ContainerLayerRecord> below = [];
        for (int round = 0; round < 500; round++)
        {
            job.ReplicationJobRuns.Add(new ReplicationJobRun { Round = round, StartTime = DateTimeOffset.UnixEpoch.AddHours(round), LayerBase = round == 0 ? null : round - 1 });
            job.BoundRunHistory();
            ReplicationJobRun run = job.ReplicationJobRuns.Single(r => r.Round == round);
            run.EndTime = run.StartTime.AddMinutes(5);
            run.ImageId = $"i-{round:D16}";
            run.Consistency = new RoundConsistency { Mode = ConsistencyModes.Frozen, Volumes = [new VolumeConsistency { MountPoint = "/", FileSystem = "xfs", Log = "sealed", UsedBlocks = "getfsmap" }] };
            var layer = new ContainerLayerRecord { Digest = "sha256:" + new string('a', 64), Size = 1 << 20, DiffId = "sha256:" + new string('b', 64), Round = round, CreatedAt = run.EndTime.Value };
            run.Container = new ContainerPushRecord { Registry = "registry.example", Repository = "team/web", Tags = [$"v1-r{round}", "v1"], ManifestDigest = "sha256:" + new string('c', 64), Layers = [.. below, layer] };
            below = run.Container.Layers;
            job.BoundRunHistory();
        }

        int bytes = JsonSerializer.SerializeToUtf8Bytes(job).Length;
        Assert.True(bytes < 400 << 10, $"the record is {bytes >> 10} KiB after 500 rounds");
        Assert.InRange(job.ReplicationJobRuns.Count, 1, ReplicationJob.MaxRunsKept);
        Assert.Equal(Enumerable.Range(400, 100), job.ReplicationJobRuns.Select(r => r.Round).Order());
        ReplicationJobRun newest = job.ReplicationJobRuns.MaxBy(r => r.Round)!;
        Assert.Equal(500, newest.Container!.Layers.Count); // the next layer goes on top of all of them
        Assert.All(job.ReplicationJobRuns.Where(r => r != newest), r => Assert.Equal([r.Round], r.Container!.Layers.Select(l => l.Round)));
    }

    [Fact]
    public void OldRunWhoseImageIsStillKept_IsNotDropped()
    {
        var job = new ReplicationJob { JobId = "j-aaaaaaaaaaaaaaaa", SourceId = "s-aaaaaaaaaaaaaaaa", Name = "db", MaxNumberOfImageToKeep = 2 };
        for (int round = 0; round < 300; round++)
        {
            // Only rounds 5 and 7 made images; every later round failed before its image.
            job.ReplicationJobRuns.Add(new ReplicationJobRun { Round = round, StartTime = DateTimeOffset.UnixEpoch, EndTime = DateTimeOffset.UnixEpoch, ImageId = round is 5 or 7 ? $"i-{round:D16}" : null });
            job.BoundRunHistory();
        }

        Assert.Contains(job.ReplicationJobRuns, r => r.Round == 5);
        Assert.Contains(job.ReplicationJobRuns, r => r.Round == 7);
        Assert.Equal(ReplicationJob.MaxRunsKept + 2, job.ReplicationJobRuns.Count);
    }
}
