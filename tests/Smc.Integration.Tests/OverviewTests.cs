using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>The overview: counts that add up, bytes moved, the jobs in error with their codes, incremental jobs with their lag.</summary>
public sealed class OverviewTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Overview_CountsErrorsAndLag_OfTheFleet() // (its auth: AuthTests covers every route)
    {
        ApiClient op = fx.Control.Operator();
        ProtocolAgent broken = await ProtocolAgent.RegisterAsync(fx.Control, seed: 201);
        await broken.StartJobAsync();
        (await broken.CommitAsync(await broken.UploadRoundAsync(Alteration.FlippedBit))).Expect(HttpStatusCode.Accepted);
        Assert.Equal("InError", (await broken.WaitForEndAsync())["status"]!.GetValue<string>());

        ProtocolAgent incremental = await ProtocolAgent.RegisterAsync(fx.Control, seed: 202);
        await incremental.StartJobAsync(new { runOnce = false, syncInterval = "PT1H" });
        (await incremental.CommitAsync(await incremental.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
        JsonNode waiting = await op.WaitForAsync($"/api/v1/replication-jobs/{incremental.JobId}", j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(60));
        Assert.Equal("Waiting", waiting["status"]!.GetValue<string>());

        JsonNode overview = (await op.GetAsync("/api/v1/overview")).Expect(HttpStatusCode.OK).Json;
        int total = overview["totalJobs"]!.GetValue<int>();
        Assert.True(total >= 2, overview.ToJsonString());
        Assert.Equal(total, overview["jobsByStatus"]!.AsObject().Sum(p => p.Value!.GetValue<int>()));
        Assert.True(overview["jobsByStatus"]!["InError"]!.GetValue<int>() >= 1 && overview["jobsByStatus"]!["Waiting"]!.GetValue<int>() >= 1, overview.ToJsonString());
        Assert.Equal(overview["totalSources"]!.GetValue<int>(), overview["sourcesByState"]!.AsObject().Sum(p => p.Value!.GetValue<int>()));
        Assert.True(overview["bytesMoved"]!.GetValue<long>() >= waiting["replicationJobRuns"]![0]!["uploadedBytes"]!.GetValue<long>());

        JsonNode error = overview["errors"]!.AsArray().Single(e => e!["jobId"]!.GetValue<string>() == broken.JobId)!;
        Assert.Equal("StagingIntegrity.ChunkTampered", error["errorCode"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(error["errorMessage"]!.GetValue<string>()));

        JsonNode lagging = overview["incremental"]!.AsArray().Single(e => e!["jobId"]!.GetValue<string>() == incremental.JobId)!;
        Assert.InRange(lagging["lagSeconds"]!.GetValue<double>(), 0, 600);
        Assert.True(lagging["nextRoundTime"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.DoesNotContain(overview["incremental"]!.AsArray(), e => e!["jobId"]!.GetValue<string>() == broken.JobId);

    }
}
