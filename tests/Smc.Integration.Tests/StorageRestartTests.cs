using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// The storage service (Azurite, on disk) restarts in the middle of an upload. Azurite only stops cleanly (saving its
/// stores) once no client holds a connection, so the agent and the control-plane host are killed first and come back
/// after it: what the new agent can build on is exactly what storage kept.
/// </summary>
public sealed partial class StorageRestartTests : IDisposable
{
    private readonly Sandbox _box = new();

    [Fact]
    public async Task Azurite_RestartedDuringUpload_JobFinishesIdentical_AcknowledgedChunksNotResent()
    {
        using Azurite azurite = await Azurite.StartAsync(_box.File("azurite-data"));
        ControlPlane first = await ControlPlane.StartAsync(azurite.ConnectionString);
        string url = first.Url;
        ApiClient op = first.Operator();
        string disk = SampleDisks.GptLarge(_box, "restart.img", randomMiB: 48);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(first, _box, disk, new { replicationParameters = new { bandwidthLimitKBps = 4000, threads = 2, compressLevel = 0 } });
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        using (ChildProcess uploading = Agent.Start("run", "--config", config))
        {
            await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => Uploaded(j) > 0, TimeSpan.FromSeconds(90));
            uploading.Kill();
        }

        first.Dispose(); // SIGKILL
        await azurite.RestartAsync();
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url);
        op = control.Operator();
        using ChildProcess second = Agent.Start("run", "--config", config);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString() + "\n" + second.Output);

        Match resumed = Resumed().Match(second.Output);
        Assert.True(resumed.Success && int.Parse(resumed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, second.Output);

        string dest = _box.File("restart.dest");
        await DiskFiles.DownloadAsync(control, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", dest);
        DiskFiles.AssertPartitionsIdentical(disk, dest);
    }

    public void Dispose() => _box.Dispose();

    private static long Uploaded(JsonNode job) => job["disks"]?.AsArray().Sum(d => d!["uploadedBytes"]!.GetValue<long>()) ?? 0;

    [GeneratedRegex(@"resuming: (\d+) chunk")]
    private static partial Regex Resumed();
}
