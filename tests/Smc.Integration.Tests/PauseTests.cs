using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Smc.Integration.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Smc.Integration.Tests;

/// <summary>
/// Pause and resume of an incremental job (issue 19) on a real control plane and agent: while paused, a scheduled
/// round that comes due is held — the job records when (<c>heldSince</c>, written by the orchestration at the due time)
/// and no run begins; the job keeps its state and images; resume (from the monitoring page) runs the held round at once.
/// </summary>
public sealed class PauseTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    [Fact]
    public async Task APausedJob_HoldsItsDueRound_AndResumeRunsIt()
    {
        ApiClient op = fx.Control.Operator();
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "pause.img"), new { runOnce = false, syncInterval = "PT6S" });
        string path = $"/api/v1/replication-jobs/{jobId}";
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode waiting = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(waiting["status"]!.GetValue<string>() == "Waiting", waiting.ToJsonString());

        JsonNode paused = (await op.PostAsync($"{path}/pause")).Expect(HttpStatusCode.OK).Json;
        Assert.True(paused["paused"]!.GetValue<bool>());
        string pausedAt = paused["pausedAt"]!.GetValue<string>();
        int roundsAtPause = paused["currentRound"]!.GetValue<int>();
        Assert.Equal(pausedAt, (await op.PostAsync($"{path}/pause")).Expect(HttpStatusCode.OK).Json["pausedAt"]!.GetValue<string>()); // idempotent

        // The interval passes: the orchestration finds the job paused and holds the round, and says since when.
        JsonNode held = await op.WaitForAsync(path, j => j["heldSince"] is not null || j["currentRound"]!.GetValue<int>() != roundsAtPause, TimeSpan.FromSeconds(60));
        Assert.True(held["heldSince"] is not null, held.ToJsonString());
        Assert.Equal(("Waiting", roundsAtPause), (held["status"]!.GetValue<string>(), held["currentRound"]!.GetValue<int>()));
        Assert.Equal(roundsAtPause + 1, held["replicationJobRuns"]!.AsArray().Count);

        // The monitoring page shows it, and resumes it (Chromium).
        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await Browser.LaunchAsync(playwright);
        IPage page = await browser.NewPageAsync();
        await Browser.LogInAsync(page, fx.Control);
        ILocator row = page.Locator($"tr[data-job='{jobId}']");
        await Expect(row.Locator(".paused")).ToHaveTextAsync("paused · round held", new() { Timeout = 30_000 });
        await row.Locator("button[data-act=resume]").ClickAsync(new() { Timeout = 30_000 });
        await Expect(row.Locator("button[data-act=pause]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.False((await op.GetAsync(path)).Json["paused"]!.GetValue<bool>());
        JsonNode next = await op.WaitForAsync(path, j => j["currentRound"]!.GetValue<int>() > roundsAtPause && j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(next["status"]!.GetValue<string>() == "Waiting" && next["heldSince"] is null, next.ToJsonString());
        Assert.Equal("Schedule", next["replicationJobRuns"]!.AsArray().Last()!["type"]!.GetValue<string>()); // the held scheduled round
    }

    [Fact]
    public async Task OnlyIncrementalJobsPause_AndAMissingJobIsNotFound()
    {
        ApiClient op = fx.Control.Operator();
        var (_, sourceId, _) = await fx.SharedAgentAsync();
        string oneShot = await Flows.NewJobAsync(op, sourceId);
        (await op.PostAsync($"/api/v1/replication-jobs/{oneShot}/pause")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        Assert.False((await op.GetAsync($"/api/v1/replication-jobs/{oneShot}")).Json["paused"]!.GetValue<bool>());
        (await op.PostAsync("/api/v1/replication-jobs/j-aaaaaaaaaaaaaaaa/resume")).ExpectProblem(HttpStatusCode.NotFound, "InvalidJobId.NotFound");
    }

    /// <summary>
    /// A PATCH of the bandwidth limit reaches a running round (issue 19): 12 MiB of random data at 256 KB/s needs at
    /// least 48 s of the agent's limiter, so a round that ends well before that had the limit lifted while it ran.
    /// </summary>
    [Fact]
    public async Task ABandwidthPatch_ReachesTheRunningRound_WithinSeconds()
    {
        const int randomMiB = 12, limitKBps = 256;
        ApiClient op = fx.Control.Operator();
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.GptLarge(fx.Box, "bandwidth.img", randomMiB),
            new { replicationParameters = new { bandwidthLimitKBps = limitKBps, compressLevel = 0 } });
        string path = $"/api/v1/replication-jobs/{jobId}";
        using ChildProcess agent = Agent.Start("run", "--config", config);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);

        // Under way (a progress report came: the disk is being read, its pack held by the limiter), then lifted.
        JsonNode syncing = await op.WaitForAsync(path, j => j["disks"]!.AsArray().Sum(d => d!["scannedBytes"]!.GetValue<long>()) > 0 || j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(60));
        Assert.True(syncing["status"]!.GetValue<string>() == "Running", syncing.ToJsonString());
        JsonNode patched = (await op.PatchAsync(path, new { replicationParameters = new { bandwidthLimitKBps = 0 } })).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(0, patched["replicationParameters"]!["bandwidthLimitKBps"]!.GetValue<int>());

        JsonNode done = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(done["status"]!.GetValue<string>() == "Finished", done.ToJsonString());
        double floor = (randomMiB << 20) / (limitKBps * 1024.0);
        Assert.True(clock.Elapsed.TotalSeconds < floor * 0.75, $"the round took {clock.Elapsed.TotalSeconds:0.0} s; held at {limitKBps} KB/s it takes at least {floor:0} s\n{agent.Output}");
        Assert.Contains("upload limit lifted by the control plane", agent.Output, StringComparison.Ordinal);

        // Only the bandwidth of replicationParameters changes after creation.
        (await op.PatchAsync(path, new { replicationParameters = new { threads = 4 } })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.ReadOnlyField");
        (await op.PatchAsync(path, new { replicationParameters = new { bandwidthSchedule = new[] { new { start = "8:00", end = "18:00", limitKBps = 10 } } } }))
            .ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.ReplicationParameters");
    }
}
