using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// The SMC-compatible API (issue 19) driven by Alibaba's own generic callers (npm: @alicloud/openapi-client for
/// ACS3-HMAC-SHA256, @alicloud/pop-core for the RPC HMAC-SHA1): a job is created, started, described until its first
/// image, cut over and described until Finished with an image — with SMC's action names, parameters, fields and paging
/// — against an access key the operator made; a wrong secret, an unknown key, a replayed request and a skewed clock are
/// refused with SMC's codes.
/// </summary>
public sealed class SmcCompatTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    private static string Script => Path.Combine(Repo.Root, "tests", "Smc.Integration.Tests", "Tools", "smc-compat-clients.mjs");

    [Fact]
    public async Task AlibabasClients_CreateStartDescribeCutover_ToAnImage_AndBadSignaturesAreRefusedWithSmcCodes()
    {
        ApiClient op = fx.Control.Operator();
        JsonNode key = (await op.PostAsync("/api/v1/access-keys", new { name = "sdk scripts" })).Expect(HttpStatusCode.Created).Json;
        string keyId = key["accessKeyId"]!.GetValue<string>(), secret = key["accessKeySecret"]!.GetValue<string>();
        Reply listed = (await op.GetAsync("/api/v1/access-keys")).Expect(HttpStatusCode.OK);
        Assert.Contains(keyId, listed.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed.Body, StringComparison.Ordinal); // shown once, never listed

        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, "smc-compat.img"));
        using ChildProcess agent = Agent.Start("run", "--config", config);

        var (exit, stdout, stderr) = Tool.Run("node", [Script, fx.Control.Url, keyId, secret, sourceId], check: false);
        Assert.True(exit == 0, stdout + stderr);
        Dictionary<string, JsonNode> steps = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)
            .ToDictionary(s => s["step"]!.GetValue<string>(), s => s);

        string jobId = steps["create"]["jobId"]!.GetValue<string>();
        JsonNode waiting = steps["waiting"];
        Assert.True(waiting["status"]!.GetValue<string>() == "Waiting", waiting.ToJsonString());
        Assert.Equal((24, 1), (waiting["frequency"]!.GetValue<int>(), waiting["runs"]!.GetValue<int>()));
        Assert.Equal("sdk", waiting["tags"]![0]!["Value"]!.GetValue<string>());
        JsonNode finished = steps["finished"];
        Assert.True(finished["status"]!.GetValue<string>() == "Finished", finished.ToJsonString());
        string imageId = finished["imageId"]!.GetValue<string>();
        Assert.Equal(100, finished["progress"]!.GetValue<double>());

        // What the clients saw is what the control plane did: the job, its image, the source.
        JsonNode job = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(("Finished", "PT24H", sourceId), (job["status"]!.GetValue<string>(), job["syncInterval"]!.GetValue<string>(), job["sourceId"]!.GetValue<string>()));
        Assert.Equal(imageId, job["replicationJobRuns"]!.AsArray().Last(r => r!["imageId"] is not null)!["imageId"]!.GetValue<string>());
        Assert.Equal("Available", (await op.GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json["status"]!.GetValue<string>());
        Assert.Equal((1, "Available"), (steps["sources"]["totalCount"]!.GetValue<int>(), steps["sources"]["state"]!.GetValue<string>()));
        JsonNode paging = steps["paging"];
        int total = paging["totalCount"]!.GetValue<int>();
        Assert.Equal((2, 1, Math.Clamp(total - 1, 0, 1)), (paging["pageNumber"]!.GetValue<int>(), paging["pageSize"]!.GetValue<int>(), paging["shown"]!.GetValue<int>()));

        // Refused, with SMC's codes.
        Assert.Equal("SignatureDoesNotMatch", steps["wrongSecretV3"]["code"]!.GetValue<string>());
        Assert.Equal("SignatureDoesNotMatch", steps["wrongSecretV2"]["code"]!.GetValue<string>());
        Assert.Equal("InvalidAccessKeyId.NotFound", steps["unknownKey"]["code"]!.GetValue<string>());
        Assert.Equal((400, "SignatureNonceUsed"), (steps["replay"]["status"]!.GetValue<int>(), steps["replay"]["code"]!.GetValue<string>()));
        Assert.Equal("InvalidTimeStamp.Expired", steps["skewedClock"]["code"]!.GetValue<string>());
        Assert.Equal("InvalidAction.NotFound", steps["unknownAction"]["code"]!.GetValue<string>());

        // A deleted key signs nothing any more.
        (await op.DeleteAsync($"/api/v1/access-keys/{keyId}")).Expect(HttpStatusCode.NoContent);
        var (exitAfter, after, _) = Tool.Run("node", [Script, fx.Control.Url, keyId, secret, sourceId], check: false);
        Assert.NotEqual(0, exitAfter);
        Assert.Contains("InvalidAccessKeyId.NotFound", after, StringComparison.Ordinal);
    }
}
