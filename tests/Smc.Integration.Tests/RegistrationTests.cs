using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Activation codes and source registration through the real agent, on disk images made by sfdisk and mkfs.</summary>
public sealed class RegistrationTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    private ApiClient Op => fx.Control.Operator();

    [Theory]
    [InlineData("{\"name\":\"t\",\"count\":5}", "InvalidParameter.Name")]
    [InlineData("{\"name\":\"tok\",\"count\":0}", "InvalidParameter.Count")]
    [InlineData("{\"name\":\"tok\",\"count\":1001}", "InvalidParameter.Count")]
    [InlineData("{\"name\":\"tok\",\"timeToLiveInDays\":0}", "InvalidParameter.TimeToLiveInDays")]
    [InlineData("{\"name\":\"tok\",\"timeToLiveInDays\":91}", "InvalidParameter.TimeToLiveInDays")]
    [InlineData("{\"name\":\"tok\",\"colour\":\"red\"}", "InvalidParameter.UnknownField")]
    [InlineData("{\"name\":\"tok\",\"count\":\"many\"}", "InvalidParameter.MalformedJson")]
    [InlineData("{\"name\":", "InvalidParameter.MalformedJson")]
    public async Task CreateAccessToken_BadInput_400WithCodeAndNothingStored(string body, string code)
    {
        int before = (await Op.GetAsync("/api/v1/access-tokens?pageSize=50")).Expect(HttpStatusCode.OK).Json["totalCount"]!.GetValue<int>();
        (await Op.SendAsync(HttpMethod.Post, "/api/v1/access-tokens", null, body)).ExpectProblem(HttpStatusCode.BadRequest, code);
        int after = (await Op.GetAsync("/api/v1/access-tokens?pageSize=50")).Json["totalCount"]!.GetValue<int>();
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task CreateAccessToken_Defaults_CountAndTtlAppliedCodeShownOnce()
    {
        JsonNode created = (await Op.PostAsync("/api/v1/access-tokens", new { name = "defaults" })).Expect(HttpStatusCode.Created).Json;
        string id = created["accessTokenId"]!.GetValue<string>();
        string code = created["accessTokenCode"]!.GetValue<string>();

        Reply list = (await Op.GetAsync("/api/v1/access-tokens?pageSize=50")).Expect(HttpStatusCode.OK);
        JsonNode token = list.Json["accessTokens"]!.AsArray().Single(t => t!["accessTokenId"]!.GetValue<string>() == id)!;
        Assert.Equal(100, token["count"]!.GetValue<int>());
        Assert.Equal(30, token["timeToLiveInDays"]!.GetValue<int>());
        Assert.Equal("Active", token["status"]!.GetValue<string>());
        Assert.DoesNotContain(code.Split('.')[1], list.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_GptImage_SourceAvailableWithDisksAsInspectSeesThem()
    {
        string gpt = SampleDisks.Gpt(fx.Box);
        var (_, code) = await Flows.NewTokenAsync(Op);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, gpt);

        Assert.Equal("600", Convert.ToString((int)File.GetUnixFileMode(config), 8));
        JsonNode source = (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Available", source["state"]!.GetValue<string>());
        Assert.Equal("Linux", source["platform"]!.GetValue<string>().Split(' ')[0]);

        JsonNode inspected = JsonNode.Parse(Agent.Run("inspect", "--disk", gpt, "--json").Stdout)!;
        Assert.True(JsonNode.DeepEquals(inspected, source["disks"]), $"inspect: {inspected.ToJsonString()}\napi: {source["disks"]!.ToJsonString()}");
        JsonArray parts = source["disks"]![0]!["parts"]!.AsArray();
        Assert.Equal("gpt", source["disks"]![0]!["partitionTable"]!.GetValue<string>());
        Assert.Equal(["vfat", "ext4", "swap"], parts.Select(p => p!["fileSystem"]!.GetValue<string>()));
        Assert.True(parts[1]!["usedBytes"]!.GetValue<long>() > 3 << 20, "ext4 holds a 3 MiB file");
    }

    [Fact]
    public async Task Register_MbrImageWithXfsAndNtfs_PartitionsAndFileSystemsReported()
    {
        string mbr = SampleDisks.Mbr(fx.Box);
        var (_, code) = await Flows.NewTokenAsync(Op);
        var (sourceId, _) = Flows.RegisterAgent(fx.Control, fx.Box, code, mbr);

        JsonNode disk = (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json["disks"]![0]!;
        Assert.Equal("mbr", disk["partitionTable"]!.GetValue<string>());
        JsonArray parts = disk["parts"]!.AsArray();
        Assert.Equal(["xfs", "ntfs"], parts.Select(p => p!["fileSystem"]!.GetValue<string>()));
        Assert.Equal(300L << 20, parts[0]!["sizeBytes"]!.GetValue<long>());
        Assert.True(parts[0]!["bootable"]!.GetValue<bool>());
        Assert.All(parts, p => Assert.True(p!["usedBytes"]!.GetValue<long>() > 0));
    }

    [Fact]
    public async Task Register_UsedUpDisabledExpiredOrWrongCode_RefusedWithDistinctCodes()
    {
        string gpt = SampleDisks.Gpt(fx.Box, "codes.img");

        var (usedUpId, usedUp) = await Flows.NewTokenAsync(Op, count: 1);
        Flows.RegisterAgent(fx.Control, fx.Box, usedUp, gpt);
        AssertRefused(usedUp, "InvalidActivationCode.UsedUp");
        JsonNode listed = (await Op.GetAsync("/api/v1/access-tokens?pageSize=50")).Json["accessTokens"]!.AsArray().Single(t => t!["accessTokenId"]!.GetValue<string>() == usedUpId)!;
        Assert.Equal("UsedUp", listed["status"]!.GetValue<string>());

        var (disabledId, disabled) = await Flows.NewTokenAsync(Op);
        (await Op.PostAsync($"/api/v1/access-tokens/{disabledId}/disable")).Expect(HttpStatusCode.OK);
        AssertRefused(disabled, "InvalidActivationCode.Disabled");

        var (expiredId, expired) = await Flows.NewTokenAsync(Op, ttl: 1);
        await AgeTokenAsync(expiredId, TimeSpan.FromDays(2));
        AssertRefused(expired, "InvalidActivationCode.Expired");

        AssertRefused(disabled.Split('.')[0] + ".wrong-secret", "InvalidActivationCode");
        AssertRefused("garbage", "InvalidActivationCode");

        var (deletedId, deleted) = await Flows.NewTokenAsync(Op);
        (await Op.DeleteAsync($"/api/v1/access-tokens/{deletedId}")).Expect(HttpStatusCode.NoContent);
        AssertRefused(deleted, "InvalidActivationCode");
        (await Op.DeleteAsync($"/api/v1/access-tokens/{deletedId}")).ExpectProblem(HttpStatusCode.NotFound, "InvalidAccessTokenId.NotFound");

        void AssertRefused(string code, string expected)
        {
            var (exit, stdout, stderr) = Agent.Run("register", "--server", fx.Control.Url, "--code", code, "--disk", gpt, "--config", fx.Box.File($"refused-{Guid.NewGuid():N}.json"));
            Assert.Equal(4, exit);
            Assert.Contains(expected + ":", stdout + stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PatchAndDeleteSource_NameChangesAndCredentialStopsWorking()
    {
        var (_, code) = await Flows.NewTokenAsync(Op);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, "patch.img"));
        ApiClient agent = fx.Control.Agent(Flows.Credential(config));

        (await Op.PatchAsync($"/api/v1/source-servers/{sourceId}", new { name = "db-primary", description = "eu" })).Expect(HttpStatusCode.OK);
        Assert.Equal(1, (await Op.GetAsync("/api/v1/source-servers?name=db-prim")).Json["totalCount"]!.GetValue<int>());
        (await Op.PatchAsync($"/api/v1/source-servers/{sourceId}", new { state = "InUse" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.UnknownField");
        (await Op.GetAsync("/api/v1/source-servers?state=Sleeping")).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.State");
        (await Op.GetAsync("/api/v1/source-servers?pageSize=500")).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.PageSize");

        (await agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "t" })).Expect(HttpStatusCode.OK);
        (await Op.DeleteAsync($"/api/v1/source-servers/{sourceId}")).Expect(HttpStatusCode.NoContent);
        (await agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "t" })).ExpectProblem(HttpStatusCode.Unauthorized, "Unauthorized.AgentCredential");
        (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).ExpectProblem(HttpStatusCode.NotFound, "InvalidSourceId.NotFound");
    }

    /// <summary>Moves a token's creation and expiry into the past, straight in table storage (no clock hooks in the product).</summary>
    private async Task AgeTokenAsync(string id, TimeSpan age)
    {
        var table = new TableClient(fx.Storage.ConnectionString, "smcAccessTokens");
        TableEntity e = (await table.GetEntityAsync<TableEntity>("r", id)).Value;
        JsonNode record = JsonNode.Parse(e.GetString("Data0"))!;
        record["createdAt"] = DateTimeOffset.UtcNow - age;
        record["expiresAt"] = DateTimeOffset.UtcNow - age + TimeSpan.FromDays(record["timeToLiveInDays"]!.GetValue<int>());
        e["Data0"] = record.ToJsonString();
        await table.UpdateEntityAsync(e, e.ETag);
    }
}
