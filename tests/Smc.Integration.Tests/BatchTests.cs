using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// <c>POST /api/v1/replication-jobs:batch</c> against the standalone host (issue 7): every operation gets the result
/// its single call would have had, partial success is normal, and client tokens make a repeated batch harmless.
/// </summary>
public sealed class BatchTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task FiftyCreates_ThreeInvalid_47Created_ThreePreciseErrors_RepeatCreatesNothing()
    {
        ApiClient op = fx.Control.Operator();
        var (tokenId, code) = await Flows.NewTokenAsync(op, count: 60);

        // 50 sources register at once with one activation code (a wave): every use is counted, none refused as busy.
        string[] sources = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Flows.RegisterSourceOverHttpAsync(fx.Control, code, $"wave-src-{i:00}")));
        Assert.Equal(50, sources.Distinct().Count());
        JsonNode token = (await op.GetAsync("/api/v1/access-tokens?pageSize=50")).Json["accessTokens"]!.AsArray().Single(t => t!["accessTokenId"]!.GetValue<string>() == tokenId)!;
        Assert.Equal(50, token["usedCount"]!.GetValue<int>());
        object Job(int i) => i switch
        {
            7 => new { sourceId = sources[i], name = $"wave-{i:00}", runOnce = false, syncInterval = "PT3S" },
            23 => new { sourceId = "s-nosuchsource00000", name = $"wave-{i:00}" },
            41 => new { sourceId = sources[i], name = $"wave-{i:00}", maxNumberOfImageToKeep = 11 },
            _ => new { sourceId = sources[i], name = $"wave-{i:00}" },
        };
        var batch = new { operations = Enumerable.Range(0, 50).Select(i => new { action = "create", clientToken = $"wave-1-{i:00}", job = Job(i) }).ToArray() };

        JsonArray first = (await op.PostAsync("/api/v1/replication-jobs:batch", batch)).Expect(HttpStatusCode.OK).Json["results"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 50), first.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal(47, first.Count(r => r!["status"]!.GetValue<int>() == 201 && r["jobId"]!.GetValue<string>().StartsWith("j-", StringComparison.Ordinal)));
        var errors = first.Where(r => r!["error"] is not null).ToDictionary(r => r!["index"]!.GetValue<int>(), r => r!["error"]!);
        Assert.Equal([7, 23, 41], errors.Keys.Order());
        Assert.Equal("InvalidParameter.Frequency", errors[7]["code"]!.GetValue<string>());
        Assert.Equal(400, first[7]!["status"]!.GetValue<int>());
        Assert.Equal("InvalidSourceId.NotFound", errors[23]["code"]!.GetValue<string>());
        Assert.Equal(404, first[23]!["status"]!.GetValue<int>());
        Assert.Equal("InvalidParameter.MaxNumberOfImageToKeep", errors[41]["code"]!.GetValue<string>());
        Assert.EndsWith("#/operations/41", errors[41]["instance"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(47, await CountAsync(op, "wave-"));

        // The same batch again (a script that retried after a timeout): the same jobs come back, nothing new is made.
        JsonArray again = (await op.PostAsync("/api/v1/replication-jobs:batch", batch)).Expect(HttpStatusCode.OK).Json["results"]!.AsArray();
        Assert.Equal(47, again.Count(r => r!["status"]!.GetValue<int>() == 200));
        Assert.Equal(first.Where(r => r!["jobId"] is not null).Select(r => r!["jobId"]!.GetValue<string>()), again.Where(r => r!["status"]!.GetValue<int>() == 200).Select(r => r!["jobId"]!.GetValue<string>()));
        Assert.Equal(47, await CountAsync(op, "wave-"));
    }

    [Fact]
    public async Task Actions_EachWithItsOwnResult_ARepeatedTokenIsAnsweredNotDoneTwice()
    {
        ApiClient op = fx.Control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op, count: 5);
        string[] jobs = new string[3];
        for (int i = 0; i < 3; i++)
        {
            // With a disk: a started job stays Running for the whole test (without one it ends InError at once, and the
            // checks below that it is still Running raced that).
            jobs[i] = await Flows.NewJobAsync(op, await Flows.RegisterSourceOverHttpAsync(fx.Control, code, $"act-src-{i}", withDisk: true));
        }

        var batch = new
        {
            operations = new object[]
            {
                new { action = "start", jobId = jobs[0], clientToken = "go-0" },
                new { action = "start", jobId = jobs[1], clientToken = "go-1" },
                new { action = "start", jobId = "j-nosuchjob0000000" },
                new { action = "launch", jobId = jobs[2] },
                new { action = "cutover", jobId = jobs[2], syncData = true },
                new { action = "delete", jobId = jobs[2], clientToken = "rm-2" },
            },
        };
        JsonArray first = (await op.PostAsync("/api/v1/replication-jobs:batch", batch)).Expect(HttpStatusCode.OK).Json["results"]!.AsArray();
        Assert.Equal([202, 202, 404, 400, 409, 204], first.Select(r => r!["status"]!.GetValue<int>()));
        Assert.Equal("InvalidJobId.NotFound", first[2]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("InvalidParameter.Batch", first[3]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("OperationDenied.JobStatus", first[4]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("Running", (await op.GetAsync($"/api/v1/replication-jobs/{jobs[0]}")).Json["status"]!.GetValue<string>());

        // Again with the same tokens: the starts and the delete are answered as before instead of refused (already
        // running, already gone); the operations without a token get their state's answer.
        JsonArray again = (await op.PostAsync("/api/v1/replication-jobs:batch", batch)).Expect(HttpStatusCode.OK).Json["results"]!.AsArray();
        Assert.Equal([202, 202, 404, 400, 404, 204], again.Select(r => r!["status"]!.GetValue<int>()));
        (await op.PostAsync($"/api/v1/replication-jobs/{jobs[0]}/start")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
    }

    [Theory]
    [InlineData("{\"operations\":[]}")]
    [InlineData("{}")]
    public async Task EmptyBatch_400(string body)
    {
        Reply reply = await fx.Control.Operator().SendAsync(HttpMethod.Post, "/api/v1/replication-jobs:batch", null, body);
        reply.ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Batch");
    }

    private static async Task<int> CountAsync(ApiClient op, string name) =>
        (await op.GetAsync($"/api/v1/replication-jobs?name={name}&pageSize=50")).Expect(HttpStatusCode.OK).Json["totalCount"]!.GetValue<int>();
}
