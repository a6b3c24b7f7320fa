using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Smc.Integration.Tests.Infrastructure;
using Smc.Testing;

namespace Smc.Integration.Tests;

/// <summary>Activation codes and source registration through the real agent, on disk images made by sfdisk and mkfs.</summary>
public sealed class RegistrationTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
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

    [Fact]
    public async Task Register_PostsThePreflightReport_TheSourceShowsIt_AndAReportOutOfBoundsIsRefused()
    {
        // A Linux system disk whose fstab names its root by a device name: the check fails it, and says how to fix it.
        // 72 MiB of data: over the 64 MiB under which the agent doesn't measure the upload rate.
        var broken = new BootSample { FstabSpec = "/dev/sda2" };
        string tree = broken.BuildTree(fx.Box.Root);
        Directory.CreateDirectory(Path.Combine(tree, "srv"));
        File.WriteAllBytes(Path.Combine(tree, "srv", "data.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(72 << 20));
        string disk = broken.BuildDisk(fx.Box.Root, BootSample.BuildFileSystem(fx.Box.Root, tree, sizeMiB: 128));
        var (_, code) = await Flows.NewTokenAsync(Op, count: 2);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, disk);

        JsonNode preflight = (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Expect(HttpStatusCode.OK).Json["preflight"]!;
        Assert.Equal("fail", preflight["status"]!.GetValue<string>());
        JsonNode fstab = preflight["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "fstab.devices")!;
        Assert.Equal("fail", fstab["status"]!.GetValue<string>());
        Assert.Contains("/dev/sda2", fstab["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("UUID=", fstab["fix"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("pass", preflight["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "drivers.virtio")!["status"]!.GetValue<string>());
        Assert.InRange(preflight["estimate"]!["inUseBytes"]!.GetValue<long>(), 300_000, new FileInfo(disk).Length);

        // staging.throughput: 16 MiB measured into a probe container of the source's own, which the control plane
        // counted (a rate without those bytes in storage is refused) and deleted when the report came.
        JsonNode throughput = preflight["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "staging.throughput")!;
        Assert.True(throughput["status"]!.GetValue<string>() == "pass", throughput.ToJsonString());
        Assert.True(preflight["estimate"]!["uploadBytesPerSecond"]!.GetValue<double>() > 0);
        Assert.True(preflight["estimate"]!["fullCopySeconds"]!.GetValue<long>() >= 0);
        Assert.False((await new Azure.Storage.Blobs.BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient("probe-" + sourceId).ExistsAsync()).Value);

        // A small source (a few MiB in use) isn't probed: the check says so, no rate is claimed, no probe container made.
        var small = new BootSample();
        string smallDisk = small.BuildDisk(fx.Box.Root, BootSample.BuildFileSystem(fx.Box.Root, small.BuildTree(fx.Box.Root)));
        var (smallId, _) = Flows.RegisterAgent(fx.Control, fx.Box, code, smallDisk);
        JsonNode smallPreflight = (await Op.GetAsync($"/api/v1/source-servers/{smallId}")).Expect(HttpStatusCode.OK).Json["preflight"]!;
        JsonNode notMeasured = smallPreflight["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "staging.throughput")!;
        Assert.Equal("pass", notMeasured["status"]!.GetValue<string>());
        Assert.StartsWith("Not measured", notMeasured["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(smallPreflight["estimate"]!["uploadBytesPerSecond"]);
        Assert.False((await new Azure.Storage.Blobs.BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient("probe-" + smallId).ExistsAsync()).Value);

        // What the agent sends is bounded and checked against what the control plane knows; a refusal keeps the last report.
        ApiClient agent = fx.Control.Agent(Flows.Credential(config));
        object Report(string status, long inUse) => new { checks = new[] { new { id = "boot.mode", status, message = "BIOS", fix = (string?)null } }, estimate = new { inUseBytes = inUse } };
        (await agent.PostAsync("/api/v1/agent/preflight", Report("maybe", 1))).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Preflight");
        (await agent.PostAsync("/api/v1/agent/preflight", Report("pass", new FileInfo(disk).Length + 1))).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Preflight");
        (await agent.PostAsync("/api/v1/agent/preflight", new { checks = Array.Empty<object>() })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Preflight");
        object claimed = new { checks = new[] { new { id = "staging.throughput", status = "pass", message = "fast" } }, estimate = new { inUseBytes = 1, uploadBytesPerSecond = 1e9 } };
        (await agent.PostAsync("/api/v1/agent/preflight", claimed)).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Preflight");
        Assert.Equal("fail", (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json["preflight"]!["status"]!.GetValue<string>());

        (await agent.PostAsync("/api/v1/agent/preflight", Report("pass", 1 << 20))).Expect(HttpStatusCode.OK);
        Assert.Equal("pass", (await Op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json["preflight"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Migrate_StopsOnAFailedPreflight_BeforeAnythingIsSent_AndForcedTheImageSaysWhatIsWrong()
    {
        var broken = new BootSample { InInitramfs = ["virtio_pci"] };
        string disk = broken.BuildDisk(fx.Box.Root, BootSample.BuildFileSystem(fx.Box.Root, broken.BuildTree(fx.Box.Root)));
        var (_, code) = await Flows.NewTokenAsync(Op);
        string config = fx.Box.File($"preflight-{Guid.NewGuid():N}.json");

        var (exit, stdout, stderr) = Agent.Run("migrate", "--server", fx.Control.Url, "--code", code, "--disk", disk, "--config", config, "--json");

        Assert.True(exit == 9, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("drivers.virtio", stderr, StringComparison.Ordinal);
        Assert.Contains("--force", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(config), "nothing registered, no job created");

        // Forced, it migrates; the image's own readiness, read by the control plane from its bytes, finds the same fault.
        (exit, stdout, stderr) = Agent.Run("migrate", "--server", fx.Control.Url, "--code", code, "--disk", disk, "--config", config, "--json", "--force");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");
        string imageId = JsonNode.Parse(stdout)!["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        JsonNode readiness = (await Op.GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json["bootReadiness"]!;
        JsonNode virtio = readiness["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "drivers.virtio")!;
        Assert.Equal("fail", virtio["status"]!.GetValue<string>());
        Assert.Contains("virtio_blk, virtio_scsi, virtio_net", virtio["message"]!.GetValue<string>(), StringComparison.Ordinal);
        JsonNode source = (await Op.GetAsync($"/api/v1/source-servers/{JsonNode.Parse(File.ReadAllText(config))!["sourceId"]!.GetValue<string>()}")).Json;
        Assert.Equal("fail", source["preflight"]!["status"]!.GetValue<string>());
    }

    /// <summary>Moves a token's creation and expiry into the past, straight in table storage (no clock hooks in the product), as the store would have written it.</summary>
    private async Task AgeTokenAsync(string id, TimeSpan age)
    {
        var table = new TableClient(fx.Storage.ConnectionString, "smcAccessTokens");
        TableEntity e = (await table.GetEntityAsync<TableEntity>("r", id)).Value;
        JsonNode record = JsonNode.Parse(e.GetString("Data0"))!;
        DateTimeOffset expiresAt = DateTimeOffset.UtcNow - age + TimeSpan.FromDays(record["timeToLiveInDays"]!.GetValue<int>());
        record["createdAt"] = DateTimeOffset.UtcNow - age;
        record["expiresAt"] = expiresAt;
        e["Data0"] = record.ToJsonString();
        e["DueAt"] = expiresAt; // the column the store keeps beside an unexpired code's record, for the status sweep
        await table.UpdateEntityAsync(e, e.ETag);
    }
}
