using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// The load exercise (scripts/load.sh: 50 agents) at a size CI holds: 20 agents run <c>smc-agent migrate</c> at once
/// against one control plane, and every migration finishes with its own image. Completion is asserted, not timing
/// (the figures are the load script's). Alone (Serial): 20 agents take both cores.
/// </summary>
[Collection(Serial.Name)]
public sealed class FleetLoadTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    private const int Agents = 20;

    [Fact]
    public async Task TwentyAgentsAtOnce_EveryMigrationFinishesWithItsOwnImage()
    {
        ApiClient op = fx.Control.Operator();
        string template = SampleDisks.Gpt(fx.Box, "fleet-template.img", dataMiB: 4);
        var disks = new List<string>();
        for (int i = 0; i < Agents; i++)
        {
            string disk = fx.Box.File($"fleet-{i:00}.img");
            Tool.Run("cp", ["--sparse=always", template, disk]);
            disks.Add(disk);
        }

        var (_, code) = await Flows.NewTokenAsync(op, count: Agents);
        var runs = disks.Select((disk, i) => Task.Factory.StartNew(
            () => Agent.Run("migrate", "--server", fx.Control.Url, "--code", code, "--disk", disk, "--config", fx.Box.File($"fleet-{i:00}.json"),
                "--name", $"fleet-{i:00}", "--json", "--force"),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();
        var results = await Task.WhenAll(runs);

        var jobs = new List<JsonNode>();
        foreach (var (exit, stdout, stderr) in results)
        {
            Assert.True(exit == 0, $"migrate exited {exit}\n{stdout}\n{stderr}");
            JsonNode job = JsonNode.Parse(stdout)!;
            Assert.Equal("Finished", job["status"]!.GetValue<string>());
            jobs.Add(job);
        }

        string[] imageIds = [.. jobs.Select(j => j["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>())];
        Assert.Equal(Agents, imageIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Agents, jobs.Select(j => j["sourceId"]!.GetValue<string>()).Distinct(StringComparer.Ordinal).Count());
        foreach (string imageId in imageIds)
        {
            Assert.Equal("Available", (await op.GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json["status"]!.GetValue<string>());
        }

        JsonNode listed = (await op.GetAsync("/api/v1/replication-jobs?status=Finished&pageSize=50")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(Agents, listed["totalCount"]!.GetValue<int>());

        // The first and the last agent's images, as downloaded, hold their source's partitions.
        foreach (int i in new[] { 0, Agents - 1 })
        {
            string dest = fx.Box.File($"fleet-{i:00}.dest");
            await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageIds[i]}/disks/0", dest);
            DiskFiles.AssertPartitionsIdentical(disks[i], dest);
            File.Delete(dest);
        }
    }
}
