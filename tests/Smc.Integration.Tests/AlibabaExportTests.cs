using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Smc.Alibaba.Emulator;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Provider alibaba end to end: a real smc-control and smc-agent, the round's disks uploaded to the emulated OSS and
/// imported with the emulated ECS ImportImage (which checks every signature with its own code), polled to Available.
/// </summary>
public sealed class AlibabaExportTests : IAsyncLifetime, IDisposable
{
    private const string Region = "cn-hangzhou";
    private const string Bucket = "smc-migrations-hz";
    private const string KeyId = "LTAI5tTestKeyForSmcExport";
    private const string Secret = "test-secret-for-the-emulator";

    private readonly Sandbox _box = new();
    private readonly EmulatorState _cloud = new();
    private WebApplication? _emulator;
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        _cloud.Accounts[KeyId] = Secret;
        _cloud.OssBuckets[Bucket] = Region;
        _cloud.ImportPolls = 3;
        (_emulator, _url) = await AlibabaEmulator.StartAsync(_cloud);
    }

    public async Task DisposeAsync()
    {
        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }

    public void Dispose() => _box.Dispose();

    [Fact]
    public async Task Migration_ToAlibaba_EndsWithOneAvailableEcsImage_WhoseObjectIsTheAssembledDisk_ThroughThrottlingAndServerErrors()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await StartControlAsync(azurite, keepObjects: true);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(control, _box, SampleDisks.Gpt(_box), new
        {
            imageProvider = "alibaba",
            regionId = Region,
            imageName = "web 01/prod",
            instanceType = "ecs.g7.large",
            vSwitchId = "vsw-bp1test",
            securityGroupId = "sg-bp1test",
            tags = new Dictionary<string, string> { ["env"] = "prod", ["wave"] = "2" },
        });
        (await control.Operator().PatchAsync($"/api/v1/source-servers/{sourceId}", new { tags = new Dictionary<string, string> { ["dc"] = "fra1", ["env"] = "staging" } })).Expect(HttpStatusCode.OK);

        // ImportImage is throttled, then fails with a 5xx; one part upload and one completion fail too.
        _cloud.Faults.Enqueue("Throttling@ImportImage");
        _cloud.Faults.Enqueue("InternalError@ImportImage");
        _cloud.OssFaults.Enqueue("UploadPart");
        _cloud.OssFaults.Enqueue("CompleteMultipartUpload");
        using ChildProcess agent = Agent.Start("run", "--config", config);
        ApiClient op = control.Operator();
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());

        JsonNode export = job["replicationJobRuns"]![0]!["export"]!;
        Assert.Equal("Available", export["status"]!.GetValue<string>());
        string ecsImageId = export["imageId"]!.GetValue<string>();
        Assert.Equal([ecsImageId], _cloud.ImageIds());
        // The source's tags under the job's (the job's env wins), as ImportImage's Tag.N reached the cloud.
        Assert.Equal([("dc", "fra1"), ("env", "prod"), ("wave", "2")], _cloud.ImageTags(ecsImageId).OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.True(_cloud.Calls.GetValueOrDefault("ImportImage") >= 2, "the 5xx'd ImportImage was retried (with its ClientToken)");
        Assert.Equal(0, _cloud.OpenUploads());

        // The imported object is the assembled disk, byte for byte.
        string key = export["disks"]![0]!["key"]!.GetValue<string>();
        Assert.StartsWith($"smc-serverless/{jobId}/r0/disk0.raw", key, StringComparison.Ordinal);
        string assembled = Path.Combine(_box.Root, "assembled.raw");
        await DiskFiles.DownloadAsync(control, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", assembled);
        Assert.True(File.ReadAllBytes(assembled).AsSpan().SequenceEqual(_cloud.OssObjects[$"{Bucket}/{key}"]), "the OSS object differs from the assembled disk");
        Assert.Contains(control.Process.Lines, l => l.Contains("ImportImage started", StringComparison.Ordinal));

        // The test launch: one instance from the ECS image.
        string instanceId = job["instanceId"]!.GetValue<string>();
        Assert.Equal(ecsImageId, _cloud.Instances[instanceId]);
        Assert.Null(job["statusInfo"]?["errorCode"]);
    }

    [Fact]
    public async Task IncrementalRounds_ToAlibaba_OneEcsImagePerRound_RetentionDeletesTheOldest_ObjectsDeleted()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await StartControlAsync(azurite, keepObjects: false);
        var (_, config, jobId) = await Flows.SourceWithJobAsync(control, _box, SampleDisks.Gpt(_box, "inc.img"),
            new { imageProvider = "alibaba", regionId = Region, runOnce = false, syncInterval = "PT1H", maxNumberOfImageToKeep = 1 });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        ApiClient op = control.Operator();
        string path = $"/api/v1/replication-jobs/{jobId}";
        for (int round = 0; round < 2; round++)
        {
            (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
            int r = round;
            JsonNode waiting = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() == "InError"
                || (j["status"]!.GetValue<string>() == "Waiting" && j["replicationJobRuns"]!.AsArray().Any(x => x!["round"]!.GetValue<int>() == r && x["export"]?["status"]?.GetValue<string>() == "Available")),
                TimeSpan.FromSeconds(180));
            Assert.Equal("Waiting", waiting["status"]!.GetValue<string>());
        }

        JsonNode job = (await op.GetAsync(path)).Json;
        JsonArray runs = job["replicationJobRuns"]!.AsArray();
        string newest = runs.Single(r => r!["round"]!.GetValue<int>() == 1)!["export"]!["imageId"]!.GetValue<string>();
        Assert.Equal("Deleted", runs.Single(r => r!["round"]!.GetValue<int>() == 0)!["export"]!["status"]!.GetValue<string>());
        Assert.Equal([newest], _cloud.ImageIds());
        Assert.Empty(_cloud.OssObjects); // deleted once imported (SMC_ALIBABA__KEEPOSSOBJECTS is false)
        Assert.Equal(0, _cloud.OpenUploads());
    }

    [Fact]
    public async Task CutoverRoundWhoseImportWasRefused_FinishesTheJobOnceRestarted()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await StartControlAsync(azurite, keepObjects: false);
        var (_, config, jobId) = await Flows.SourceWithJobAsync(control, _box, SampleDisks.Gpt(_box, "cut.img"),
            new { imageProvider = "alibaba", regionId = Region, runOnce = false, syncInterval = "PT1H", maxNumberOfImageToKeep = 2 });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        ApiClient op = control.Operator();
        string path = $"/api/v1/replication-jobs/{jobId}";
        (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        Assert.Equal("Waiting", (await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(180)))["status"]!.GetValue<string>());

        // The cutover's last round is uploaded, then its import is refused; the operator fixes the role and starts again.
        _cloud.RamRoleAuthorized = false;
        (await op.PostAsync($"{path}/cutover", new { syncData = true })).Expect(HttpStatusCode.Accepted);
        JsonNode refused = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "InError" or "Finished", TimeSpan.FromSeconds(180));
        Assert.Equal("Alibaba.NoSetRoletoECSServiceAcount", refused["statusInfo"]!["errorCode"]!.GetValue<string>());
        _cloud.RamRoleAuthorized = true;
        (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode done = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Finished" or "InError" or "Waiting", TimeSpan.FromSeconds(180));
        Assert.True(done["status"]!.GetValue<string>() == "Finished", done.ToJsonString());
        Assert.Equal(2, _cloud.ImageIds().Count);
    }

    [Fact]
    public async Task CloudRefusals_EndInErrorWithPreciseCodes_NothingHalfMade_AndAFixedRoleImportsWithoutReupload()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await StartControlAsync(azurite, keepObjects: false);
        ApiClient op = control.Operator();

        // A region ECS doesn't have: refused before anything is uploaded.
        var (_, atlantisConfig, atlantis) = await Flows.SourceWithJobAsync(control, _box, SampleDisks.Gpt(_box, "region.img"), new { imageProvider = "alibaba", regionId = "cn-atlantis" });
        using (ChildProcess a = Agent.Start("run", "--config", atlantisConfig))
        {
            (await op.PostAsync($"/api/v1/replication-jobs/{atlantis}/start")).Expect(HttpStatusCode.Accepted);
            JsonNode j = await op.WaitForAsync($"/api/v1/replication-jobs/{atlantis}", x => x["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
            Assert.Equal("Alibaba.InvalidRegionId", j["statusInfo"]!["errorCode"]!.GetValue<string>());
            Assert.Equal(0, _cloud.Calls.GetValueOrDefault("oss:InitiateMultipartUpload"));
        }

        // Wrong credentials: the account's secret is not the one the control plane signs with.
        _cloud.Accounts[KeyId] = "rotated-secret";
        JsonNode wrongKey = await RunToEndAsync(control, "key.img");
        Assert.Equal("InError", wrongKey["status"]!.GetValue<string>());
        Assert.Equal("Alibaba.SignatureDoesNotMatch", wrongKey["statusInfo"]!["errorCode"]!.GetValue<string>());
        Assert.Contains("SMC_ALIBABA__ACCESSKEYSECRET", wrongKey["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        _cloud.Accounts[KeyId] = Secret;

        // A missing bucket.
        _cloud.OssBuckets.TryRemove(Bucket, out _);
        int initiatesBefore = _cloud.Calls.GetValueOrDefault("oss:InitiateMultipartUpload");
        JsonNode noBucket = await RunToEndAsync(control, "bucket.img");
        Assert.Equal("Alibaba.NoSuchBucket", noBucket["statusInfo"]!["errorCode"]!.GetValue<string>());
        Assert.Contains($"'{Bucket}' does not exist in region {Region}", noBucket["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(initiatesBefore + 1, _cloud.Calls.GetValueOrDefault("oss:InitiateMultipartUpload")); // refused once, not retried
        _cloud.OssBuckets[Bucket] = Region;

        // No RAM role for ECS: the disks are uploaded whole, the import is refused.
        _cloud.RamRoleAuthorized = false;
        (string jobId, JsonNode noRole) = await RunToEndWithIdAsync(control, "role.img");
        Assert.Equal("Alibaba.NoSetRoletoECSServiceAcount", noRole["statusInfo"]!["errorCode"]!.GetValue<string>());
        Assert.Contains("AliyunECSImageImportDefaultRole", noRole["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, _cloud.OpenUploads());
        Assert.Empty(_cloud.ImageIds());

        // Role created, job started again: only the import is retried, no part is sent twice.
        _cloud.RamRoleAuthorized = true;
        int partsBefore = _cloud.Calls.GetValueOrDefault("oss:UploadPart");
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode fixedJob = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(fixedJob["status"]!.GetValue<string>() == "Finished", fixedJob.ToJsonString());
        Assert.Equal(partsBefore, _cloud.Calls.GetValueOrDefault("oss:UploadPart"));
        Assert.Single(_cloud.ImageIds());
        Assert.All(_cloud.PartUploads, p => Assert.Equal(1, p.Value));
    }

    [Fact]
    public async Task HostKilledMidUpload_NewHostResumesTheMultipartUpload_WithoutResendingFinishedParts()
    {
        using Azurite azurite = await Azurite.StartAsync();
        ControlPlane first = await StartControlAsync(azurite, keepObjects: true);
        string url = first.Url;
        var (_, config, jobId) = await Flows.SourceWithJobAsync(first, _box, SampleDisks.Gpt(_box, "kill.img"), new { imageProvider = "alibaba", regionId = Region });
        _cloud.HoldPartsAfter = 3;
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await first.Operator().PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        await _cloud.PartsHeld.Task.WaitAsync(TimeSpan.FromSeconds(120));
        var storedBeforeKill = _cloud.PartUploads.Keys.ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(storedBeforeKill);
        first.Dispose(); // SIGKILL with part uploads in flight
        _cloud.HoldPartsAfter = null;
        _cloud.ReleaseParts();

        using ControlPlane second = await StartControlAsync(azurite, keepObjects: true, url);
        JsonNode job = await second.Operator().WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        Assert.All(storedBeforeKill, part => Assert.Equal(1, _cloud.PartUploads[part]));
        Assert.Equal(1, _cloud.Calls.GetValueOrDefault("oss:InitiateMultipartUpload")); // the same upload, resumed
        Assert.Single(_cloud.ImageIds());
        Assert.Equal(0, _cloud.OpenUploads());
        Assert.Contains(second.Process.Lines, l => l.Contains("already in OSS", StringComparison.Ordinal) && !l.Contains(", 0 already in OSS", StringComparison.Ordinal));

        string key = job["replicationJobRuns"]![0]!["export"]!["disks"]![0]!["key"]!.GetValue<string>();
        string assembled = Path.Combine(_box.Root, "assembled.raw");
        await DiskFiles.DownloadAsync(second, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", assembled);
        Assert.True(File.ReadAllBytes(assembled).AsSpan().SequenceEqual(_cloud.OssObjects[$"{Bucket}/{key}"]), "the resumed object differs from the assembled disk");
    }

    [Fact]
    public async Task JobDeletedMidUpload_LeavesNoUnfinishedUploadInOss()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await StartControlAsync(azurite, keepObjects: false);
        var (_, config, jobId) = await Flows.SourceWithJobAsync(control, _box, SampleDisks.Gpt(_box, "del.img"), new { imageProvider = "alibaba", regionId = Region });
        _cloud.HoldPartsAfter = 2;
        using ChildProcess agent = Agent.Start("run", "--config", config);
        ApiClient op = control.Operator();
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        await _cloud.PartsHeld.Task.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(1, _cloud.OpenUploads());

        (await op.DeleteAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.NoContent);
        Assert.Equal(0, _cloud.OpenUploads());
        _cloud.ReleaseParts();
        Assert.Empty(_cloud.ImageIds());
    }

    private Task<ControlPlane> StartControlAsync(Azurite azurite, bool keepObjects, string? url = null) =>
        ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url, settings: new Dictionary<string, string>
        {
            ["SMC_ALIBABA__ACCESSKEYID"] = KeyId,
            ["SMC_ALIBABA__ACCESSKEYSECRET"] = Secret,
            ["SMC_ALIBABA__OSSBUCKET"] = Bucket,
            ["SMC_ALIBABA__ECSENDPOINT"] = _url.ToString(),
            ["SMC_ALIBABA__OSSENDPOINT"] = _url.ToString(),
            ["SMC_ALIBABA__IMPORTPOLLSECONDS"] = "1",
            ["SMC_ALIBABA__RETRYDELAY"] = "00:00:00.050",
            ["SMC_ALIBABA__KEEPOSSOBJECTS"] = keepObjects ? "true" : "false",
        });

    private async Task<JsonNode> RunToEndAsync(ControlPlane control, string disk) => (await RunToEndWithIdAsync(control, disk)).Job;

    /// <summary>A new source and job with provider alibaba, run until it ends (the agent stops with the method).</summary>
    private async Task<(string JobId, JsonNode Job)> RunToEndWithIdAsync(ControlPlane control, string disk)
    {
        var (_, config, jobId) = await Flows.SourceWithJobAsync(control, _box, SampleDisks.Gpt(_box, disk), new { imageProvider = "alibaba", regionId = Region });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        ApiClient op = control.Operator();
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        return (jobId, job);
    }
}
