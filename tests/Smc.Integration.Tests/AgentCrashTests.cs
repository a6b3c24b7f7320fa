using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Kill the agent (SIGKILL) at several points of an upload; each restart resumes from its journal and the image is identical.</summary>
public sealed partial class AgentCrashTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Agent_KilledRepeatedlyDuringUpload_ResumesAndImageIdentical()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "crash.img", dataMiB: 32);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk, new { replicationParameters = new { bandwidthLimitKBps = 2500, threads = 2, compressLevel = 0 } });
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        var random = new Random(20261128);
        var resumedFrom = new List<int>();
        for (int kill = 0; kill < 3; kill++)
        {
            using ChildProcess agent = Agent.Start("run", "--config", config);
            await agent.WaitForLineAsync("command ", TimeSpan.FromSeconds(60));
            long before = Uploaded(await op.GetAsync($"/api/v1/replication-jobs/{jobId}"));
            // Let it upload for a while (a random share of a pack or two), then kill it without warning.
            await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => Uploaded(j) > before || j["businessStatus"]?.GetValue<string>() != "Syncing", TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(100, 1500));
            agent.Kill();
            Match m = Resumed().Match(agent.Output);
            resumedFrom.Add(m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
        }

        using ChildProcess last = Agent.Start("run", "--config", config);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString() + "\n" + last.Output);

        // Each restart began from what the previous runs had acknowledged, never from scratch.
        Match final = Resumed().Match(last.Output);
        Assert.True(final.Success, last.Output);
        resumedFrom.Add(int.Parse(final.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(resumedFrom.Skip(1).All(n => n > 0), string.Join(", ", resumedFrom));
        Assert.True(resumedFrom.Zip(resumedFrom.Skip(1)).All(p => p.Second >= p.First), string.Join(", ", resumedFrom));

        // The image's partitions equal the source's byte for byte.
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        string dest = fx.Box.File("crash.dest");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", dest);
        DiskFiles.AssertPartitionsIdentical(disk, dest);
    }

    private static long Uploaded(JsonNode job) => job["disks"]!.AsArray().Sum(d => d!["uploadedBytes"]!.GetValue<long>());

    private static long Uploaded(Reply reply) => Uploaded(reply.Json);


    [GeneratedRegex(@"resuming: (\d+) chunk")]
    private static partial Regex Resumed();
}
