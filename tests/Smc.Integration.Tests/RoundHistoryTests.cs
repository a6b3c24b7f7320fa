using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// A job of many rounds: each round is a new generation of the orchestration (ContinueAsNew), so the task hub's history of
/// the job is one round's worth however many rounds ran. Counted in the Durable Task history table on Azurite.
/// </summary>
public sealed class RoundHistoryTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    private const int Rounds = 20;

    [Fact]
    public async Task TwentyRounds_HistoryStaysOneRoundLong_AndEveryRoundIsAnImage()
    {
        ApiClient op = fx.Control.Operator();
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 50);
        await agent.StartJobAsync(new { runOnce = false, syncInterval = "PT1H", maxNumberOfImageToKeep = 2 });
        TableClient history = new TableServiceClient(fx.Storage.ConnectionString).GetTableClient("smchubHistory");
        var rows = new List<int>();
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0)
            {
                (await op.PostAsync($"/api/v1/replication-jobs/{agent.JobId}/start")).Expect(HttpStatusCode.Accepted);
                await agent.AwaitCommandAsync(round);
            }

            (await agent.CommitAsync(await agent.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
            int expected = round;
            JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{agent.JobId}",
                j => j["status"]!.GetValue<string>() is "InError" || (j["status"]!.GetValue<string>() == "Waiting" && j["replicationJobRuns"]!.AsArray().Any(r => r!["round"]!.GetValue<int>() == expected && r["endTime"] is not null)),
                TimeSpan.FromSeconds(60));
            Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());
            rows.Add(await CountAsync(history, agent.JobId));
        }

        // Each generation overwrites the rows of the one before (rows a longer earlier generation had beyond it stay until
        // overwritten), so the history holds about one round's events: after 20 rounds no more than twice what it held after
        // 3 — one history of all rounds would hold nearly 7 times as many.
        Assert.True(rows.Max() < 2 * rows[2], $"history rows per round: {string.Join(", ", rows)}");

        // Every round was an image; retention kept the newest two, equal to the disk.
        JsonNode final = (await op.GetAsync($"/api/v1/replication-jobs/{agent.JobId}")).Json;
        Assert.Equal(Rounds, final["replicationJobRuns"]!.AsArray().Count);
        JsonArray images = (await op.GetAsync($"/api/v1/images?jobId={agent.JobId}")).Json["images"]!.AsArray();
        Assert.Equal([Rounds - 2, Rounds - 1], images.Select(i => i!["round"]!.GetValue<int>()).Order().ToArray());
        // The packs of deleted images went with them: each round here is complete (one pack), so two packs remain.
        var kept = await LocalImageTests.ListAsync(new Azure.Storage.Blobs.BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient("smc-images"), $"packs/{agent.JobId}/");
        Assert.Equal([$"{Rounds - 2}", $"{Rounds - 1}"], kept.Select(b => b.Name.Split('/')[2]).Order(StringComparer.Ordinal).ToArray());
        string dest = fx.Box.File("history.dest.img");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{images[0]!["imageId"]}/disks/0", dest);
        Assert.Equal(agent.Disk, await File.ReadAllBytesAsync(dest));
    }

    private static async Task<int> CountAsync(TableClient history, string jobId)
    {
        int count = 0;
        await foreach (TableEntity _ in history.QueryAsync<TableEntity>(e => e.PartitionKey == jobId, select: ["PartitionKey"]))
        {
            count++;
        }

        return count;
    }
}
