using System.Net;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Smc.Integration.Tests.Infrastructure;
using Smc.Wire.Staging;

namespace Smc.Integration.Tests;

/// <summary>Replication jobs: creation checks, SMC's state rules, idempotency, and the first stage of the orchestration.</summary>
public sealed class JobTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    private ApiClient Op => fx.Control.Operator();

    /// <summary>
    /// Through the route: JSON binding, unknown fields, a source that doesn't exist, an unconfigured cloud, and one of
    /// <see cref="Smc.Core.Services.JobRequests"/>' field rules (all of which Smc.Core.Tests' JobRequestValidationTests
    /// checks on the function itself) — each a problem+json with its code, and nothing stored.
    /// </summary>
    [Theory]
    [InlineData("{\"name\":\"no-source\"}", 400, "MissingParameter")]
    [InlineData("{\"sourceId\":\"s-aaaaaaaaaaaaaaaa\",\"name\":\"j1\"}", 404, "InvalidSourceId.NotFound")]
    [InlineData("{\"sourceId\":\"SOURCE\",\"name\":\"j1\",\"imageProvider\":\"alibaba\",\"regionId\":\"cn-hangzhou\"}", 400, "Alibaba.NotConfigured")]
    [InlineData("{\"sourceId\":\"SOURCE\",\"name\":\"j1\",\"runOnce\":false,\"syncInterval\":\"hourly\"}", 400, "InvalidParameter.Frequency")]
    [InlineData("{\"sourceId\":\"SOURCE\",\"name\":\"j1\",\"replicationParameters\":{\"threads\":4,\"turbo\":true}}", 400, "InvalidParameter.UnknownField")]
    [InlineData("{\"sourceId\":\"SOURCE\",\"name\":\"j1\",\"systemDiskSize\":\"big\"}", 400, "InvalidParameter.MalformedJson")]
    [InlineData("[1,2]", 400, "InvalidParameter.MalformedJson")]
    [InlineData("", 400, "InvalidParameter.MalformedJson")]
    public async Task CreateJob_BadInput_4xxWithCodeAndNothingStored(string body, int status, string code)
    {
        var (_, sourceId, _) = await fx.SharedAgentAsync();
        int before = (await Op.GetAsync("/api/v1/replication-jobs?pageSize=50")).Json["totalCount"]!.GetValue<int>();
        (await Op.SendAsync(HttpMethod.Post, "/api/v1/replication-jobs", null, body.Replace("SOURCE", sourceId, StringComparison.Ordinal)))
            .ExpectProblem((HttpStatusCode)status, code);
        Assert.Equal(before, (await Op.GetAsync("/api/v1/replication-jobs?pageSize=50")).Json["totalCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Job_Lifecycle_FollowsSmcStateRules()
    {
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "life.img"), new { runOnce = false, syncInterval = "PT1H", maxNumberOfImageToKeep = 3 });

        JsonNode job = (await Op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Ready", job["status"]!.GetValue<string>());

        // One unfinished job per source server.
        (await Op.PostAsync("/api/v1/replication-jobs", new { sourceId, name = "second" })).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.SourceHasUnfinishedJob");

        // Stop only while Syncing, cutover only while Waiting, locked fields only while Waiting.
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/stop")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/cutover", new { syncData = true })).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { syncInterval = "PT2H" })).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { maxNumberOfImageToKeep = 2 })).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { imageName = "x" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.ReadOnlyField");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { runOnce = true })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.ReadOnlyField");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { sourceId = "s-aaaaaaaaaaaaaaaa" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.ReadOnlyField");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { colour = "x" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.UnknownField");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { name = "renamed", description = "nightly" })).Expect(HttpStatusCode.OK);

        // Start: the orchestration takes the source, the agent uploads the round, the assembler makes an image.
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        JsonNode waiting = await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(waiting["status"]!.GetValue<string>() == "Waiting", waiting.ToJsonString());

        // Waiting (an incremental job between rounds): no stop; interval and retention may change; cutover ends it.
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/stop")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { syncInterval = "PT3S" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Frequency");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { syncInterval = "P8D" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Frequency");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { maxNumberOfImageToKeep = 0 })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.MaxNumberOfImageToKeep");
        (await Op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { syncInterval = "PT2H", maxNumberOfImageToKeep = 2 })).Expect(HttpStatusCode.OK);
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/cutover", new { syncData = false })).Expect(HttpStatusCode.Accepted);
        JsonNode ended = await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(60));
        Assert.True(ended["status"]!.GetValue<string>() == "Finished", ended.ToJsonString());
        Assert.Single(ended["replicationJobRuns"]!.AsArray());
        Assert.Equal("PT2H", ended["syncInterval"]!.GetValue<string>());
        Assert.Equal("renamed", ended["name"]!.GetValue<string>());
        Assert.Equal(100, ended["progress"]!.GetValue<double>());
        Assert.NotNull(ended["replicationJobRuns"]![0]!["imageId"]);
        JsonNode source = (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json;
        Assert.Equal("Available", source["state"]!.GetValue<string>());
        Assert.Empty(source["pendingCommands"]!.AsArray());

        // A finished job is no longer the source's unfinished job; finished jobs can't be started again.
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        string next = await Flows.NewJobAsync(Op, sourceId);
        (await Op.DeleteAsync($"/api/v1/replication-jobs/{next}")).Expect(HttpStatusCode.NoContent);
        (await Op.DeleteAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.NoContent);
        (await Op.GetAsync($"/api/v1/replication-jobs/{jobId}")).ExpectProblem(HttpStatusCode.NotFound, "InvalidJobId.NotFound");
    }

    [Fact]
    public async Task Start_WithScheduledStartTime_FirstRoundWaitsForIt()
    {
        DateTimeOffset at = DateTimeOffset.UtcNow.AddSeconds(12);
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "at.img"), new { scheduledStartTime = at });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        JsonNode job = await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        DateTimeOffset roundStarted = job["replicationJobRuns"]![0]!["startTime"]!.GetValue<DateTimeOffset>();
        Assert.True(roundStarted >= at.AddSeconds(-0.5), $"round 0 started {roundStarted:O}, scheduled {at:O}");
    }

    [Fact]
    public async Task IncrementalJob_PastItsValidTime_ExpiresKeepingItsImageAndFreeingTheSource()
    {
        DateTimeOffset until = DateTimeOffset.UtcNow.AddSeconds(25);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "expire.img"),
            new { runOnce = false, syncInterval = "PT1H", validTime = until });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();

        // Something is left in the job's staging (an interrupted round's upload): expiry deletes the staging with it.
        BlobContainerClient staging = new BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient(StagingNames.Container(jobId));
        await staging.CreateIfNotExistsAsync();
        await staging.GetBlobClient("r000001/leftover").UploadAsync(new BinaryData("x"u8.ToArray()), overwrite: true);

        job = await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() != "Waiting", TimeSpan.FromSeconds(90));
        Assert.Equal("Expired", job["status"]!.GetValue<string>());
        Assert.True(DateTimeOffset.UtcNow >= until, "expired before its validTime");
        Assert.Equal("Expired.ValidTime", job["statusInfo"]!["errorCode"]!.GetValue<string>());
        Assert.Null(job["nextRoundTime"]);
        // (Staging goes after the job's record says Expired, in the same housekeeping pass.)
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await staging.ExistsAsync()).Value)
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired job's staging is still there after 30 s");
            await Task.Delay(200);
        }

        // The kept image stays and downloads; the source is free for a new job; the job can't be started again.
        Assert.Equal(HttpStatusCode.OK, (await Op.GetAsync($"/api/v1/images/{imageId}")).Status);
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", fx.Box.File("expire.dest.img"));
        Assert.Equal(new FileInfo(fx.Box.File("expire.img")).Length, new FileInfo(fx.Box.File("expire.dest.img")).Length);
        Assert.Equal("Available", (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json["state"]!.GetValue<string>());
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
        (await Op.PostAsync("/api/v1/replication-jobs", new { sourceId, name = "after-expiry" })).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Job_StopWhileSyncingThenStart_ResumesWithoutResending()
    {
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "stop.img", dataMiB: 24), new { replicationParameters = new { bandwidthLimitKBps = 3000, threads = 1, compressLevel = 0 } });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["disks"]!.AsArray().Any(d => d!["uploadedBytes"]!.GetValue<long>() > 0), TimeSpan.FromSeconds(60));

        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/stop")).Expect(HttpStatusCode.Accepted);
        Assert.Equal("Stopped", (await Op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json["status"]!.GetValue<string>());
        await agent.WaitForLineAsync("withdrawn by the control plane", TimeSpan.FromSeconds(30));
        Assert.Equal("Available", (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json["state"]!.GetValue<string>());

        (await Op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode ended = await Op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(ended["status"]!.GetValue<string>() == "Finished", ended.ToJsonString());
        Assert.Contains(agent.Lines, l => l.Contains("resuming:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Job_StartRightAfterStop_RunsTheJob()
    {
        // The stop's termination is still queued when the start arrives: the start must end that execution and run a
        // new one, not take the ending one for the job's own and leave the job Running with nothing behind it.
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "restop.img", dataMiB: 24), new { replicationParameters = new { bandwidthLimitKBps = 3000, threads = 1, compressLevel = 0 } });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        string path = $"/api/v1/replication-jobs/{jobId}";
        (await Op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        await Op.WaitForAsync(path, j => j["businessStatus"]?.GetValue<string>() == "Syncing", TimeSpan.FromSeconds(60));

        (await Op.PostAsync($"{path}/stop")).Expect(HttpStatusCode.Accepted);
        (await Op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode ended = await Op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(ended["status"]!.GetValue<string>() == "Finished", ended.ToJsonString());
        Assert.Single(ended["replicationJobRuns"]!.AsArray());
    }

    [Fact]
    public async Task CreateJob_SameClientToken_OneJobAndMismatchRefused()
    {
        var (_, code) = await Flows.NewTokenAsync(Op);
        var (sourceId, _) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, "idem.img"));
        var body = new { sourceId, name = "idem", clientToken = "tok-" + Guid.NewGuid().ToString("N") };

        string first = (await Op.PostAsync("/api/v1/replication-jobs", body)).Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();
        string again = (await Op.PostAsync("/api/v1/replication-jobs", body)).Expect(HttpStatusCode.OK).Json["jobId"]!.GetValue<string>();
        Assert.Equal(first, again);
        (await Op.PostAsync("/api/v1/replication-jobs", new { sourceId, name = "other", body.clientToken })).ExpectProblem(HttpStatusCode.Conflict, "IdempotentParameterMismatch");
        Assert.Equal(1, (await Op.GetAsync($"/api/v1/replication-jobs?sourceId={sourceId}")).Json["totalCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task JobRoutes_UnknownOrMalformedIds_404()
    {
        (await Op.GetAsync("/api/v1/replication-jobs/j-aaaaaaaaaaaaaaaa")).ExpectProblem(HttpStatusCode.NotFound, "InvalidJobId.NotFound");
        (await Op.PostAsync("/api/v1/replication-jobs/'%20or%201=1/start")).ExpectProblem(HttpStatusCode.NotFound, "InvalidJobId.NotFound");
        (await Op.GetAsync("/api/v1/replication-jobs?status=Sleeping")).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Status");
    }
}
