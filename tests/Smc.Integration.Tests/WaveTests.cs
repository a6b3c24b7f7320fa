using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Waves (issue 19) on a real control plane and agents: a wave's start fans out to its jobs through the batch path
/// with one result each; its rounds are capped (a round takes a slot of its wave before it is issued, queued past the
/// cap) — checked from the jobs' own run records; its roll-up matches the jobs; a closed window queues a round and
/// says why until the window is changed.
/// </summary>
public sealed class WaveTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    private const int Members = 10;
    private const int Cap = 3;

    [Fact]
    public async Task AWaveOfTenCappedAtThree_NeverRunsMoreThanThreeRounds_AndItsRollupMatchesTheJobs()
    {
        ApiClient op = fx.Control.Operator();
        JsonNode wave = (await op.PostAsync("/api/v1/waves", new { name = "wave one", maxConcurrentRounds = Cap, tags = new Dictionary<string, string> { ["dc"] = "fra1" } }))
            .Expect(HttpStatusCode.Created).Json;
        string waveId = wave["waveId"]!.GetValue<string>();
        Assert.StartsWith("wv-", waveId, StringComparison.Ordinal);

        string template = SampleDisks.Gpt(fx.Box, "wave-template.img", dataMiB: 2);
        var (_, code) = await Flows.NewTokenAsync(op, count: Members);
        var agents = new List<ChildProcess>();
        var jobIds = new List<string>();
        try
        {
            for (int i = 0; i < Members; i++)
            {
                string disk = fx.Box.File($"wave-{i:00}.img");
                Tool.Run("cp", ["--sparse=always", template, disk]);
                var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, disk);
                // Half join at creation, half through the members route (by source).
                jobIds.Add(await Flows.NewJobAsync(op, sourceId, i % 2 == 0 ? new { waveId } : null));
                if (i % 2 == 1)
                {
                    JsonNode added = (await op.PostAsync($"/api/v1/waves/{waveId}/members", new { sourceIds = new[] { sourceId } })).Expect(HttpStatusCode.OK).Json;
                    Assert.Equal(200, added["results"]![0]!["status"]!.GetValue<int>());
                }

                agents.Add(Agent.Start("run", "--config", config));
            }

            JsonNode started = (await op.PostAsync($"/api/v1/waves/{waveId}/start")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal(Enumerable.Repeat(202, Members), started["results"]!.AsArray().Select(r => r!["status"]!.GetValue<int>()));
            Assert.Equal(jobIds.Order(StringComparer.Ordinal), started["results"]!.AsArray().Select(r => r!["jobId"]!.GetValue<string>()).Order(StringComparer.Ordinal));

            JsonNode done = await op.WaitForAsync($"/api/v1/waves/{waveId}", w => w["rollup"]!["byStatus"]!["Finished"]?.GetValue<int>() == Members
                || w["rollup"]!["byStatus"]!["InError"] is not null, TimeSpan.FromSeconds(300));
            JsonNode rollup = done["rollup"]!;
            Assert.True(rollup["byStatus"]!["Finished"]?.GetValue<int>() == Members, done.ToJsonString());

            // The cap, from the runs the jobs recorded: at no instant more than three rounds between start and end.
            var runs = new List<(DateTimeOffset Start, DateTimeOffset End, string JobId)>();
            var byStatus = new Dictionary<string, int>();
            foreach (string jobId in jobIds)
            {
                JsonNode job = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.OK).Json;
                JsonNode run = job["replicationJobRuns"]!.AsArray().Single()!;
                runs.Add((run["startTime"]!.GetValue<DateTimeOffset>(), run["endTime"]!.GetValue<DateTimeOffset>(), jobId));
                string status = job["status"]!.GetValue<string>();
                byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
                Assert.Equal(waveId, job["waveId"]!.GetValue<string>());
            }

            int most = runs.Max(r => runs.Count(o => o.Start <= r.Start && r.Start < o.End));
            Assert.True(most <= Cap, $"{most} rounds ran at once: {string.Join("; ", runs.OrderBy(r => r.Start).Select(r => $"{r.JobId} {r.Start:HH:mm:ss.fff}–{r.End:HH:mm:ss.fff}"))}");
            Assert.True(most >= 2, "the wave's rounds never overlapped: the test shows nothing about the cap");

            // The roll-up is the jobs' own state.
            Assert.Equal(byStatus, rollup["byStatus"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>()));
            Assert.Equal(Members, rollup["jobs"]!.GetValue<int>());
            Assert.Equal(100, rollup["progress"]!.GetValue<double>());
            Assert.Equal((0, 0), (rollup["runningRounds"]!.GetValue<int>(), rollup["queuedRounds"]!.GetValue<int>()));
            Assert.Empty(rollup["errors"]!.AsArray());
            JsonNode listed = (await op.GetAsync($"/api/v1/replication-jobs?waveId={waveId}&pageSize=50")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal(Members, listed["totalCount"]!.GetValue<int>());
            Assert.Contains((await op.GetAsync("/api/v1/waves?tag=dc:fra1")).Expect(HttpStatusCode.OK).Json["waves"]!.AsArray(), w => w!["waveId"]!.GetValue<string>() == waveId);

            // An action that doesn't fit a member answers for that member; a wave with jobs isn't deleted.
            JsonNode paused = (await op.PostAsync($"/api/v1/waves/{waveId}/pause")).Expect(HttpStatusCode.OK).Json;
            Assert.All(paused["results"]!.AsArray(), r => Assert.Equal("OperationDenied.JobStatus", r!["error"]!["code"]!.GetValue<string>()));
            (await op.DeleteAsync($"/api/v1/waves/{waveId}")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.WaveNotEmpty");
            (await op.PostAsync($"/api/v1/waves/{waveId}/launch")).ExpectProblem(HttpStatusCode.NotFound, "InvalidParameter.Wave");
        }
        finally
        {
            foreach (ChildProcess agent in agents)
            {
                agent.Dispose();
            }
        }
    }

    [Fact]
    public async Task AClosedWindow_QueuesTheRoundAndSaysWhy_UntilTheWindowIsChanged()
    {
        ApiClient op = fx.Control.Operator();
        DateTime now = DateTime.UtcNow;
        string Hm(DateTime t) => t.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        string waveId = (await op.PostAsync("/api/v1/waves", new { name = "night wave", window = new { start = Hm(now.AddHours(2)), end = Hm(now.AddHours(3)) } }))
            .Expect(HttpStatusCode.Created).Json["waveId"]!.GetValue<string>();
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "window.img"), new { waveId });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        JsonNode queued = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["statusInfo"]?["errorCode"]?.GetValue<string>() == "Wave.Queued", TimeSpan.FromSeconds(60));
        Assert.Contains("its rounds start between", queued["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(queued["replicationJobRuns"]!.AsArray()); // no round was issued
        Assert.Equal(1, (await op.GetAsync($"/api/v1/waves/{waveId}")).Json["rollup"]!["queuedRounds"]!.GetValue<int>());

        // Removing the window wakes the queued round; it runs.
        (await op.PatchAsync($"/api/v1/waves/{waveId}", new { window = new { start = "", end = "" } })).Expect(HttpStatusCode.OK);
        JsonNode done = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(done["status"]!.GetValue<string>() == "Finished", done.ToJsonString());
        Assert.Null(done["statusInfo"]?["errorCode"]);
    }
}
