using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Smc.Alibaba.Emulator;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// The in-repo Alibaba emulator driven by Alibaba's official clients from the npm registry (ali-oss, and
/// @alicloud/ecs20140526 on @alicloud/openapi-client), not by our client: the emulator and our client are both written
/// from docs/alibaba-api.md, and these show the emulator answers what Alibaba's own code sends — OSS4-HMAC-SHA256
/// multipart upload, ImportImage and DeleteImage signed ACS3-HMAC-SHA256, DescribeImages signed with the RPC HMAC-SHA1
/// scheme — and refuses their requests signed with a wrong secret.
/// </summary>
public sealed class OfficialAlibabaClientsTests : IAsyncLifetime, IDisposable
{
    private const string Region = "cn-hangzhou";
    private const string Bucket = "smc-official-clients";
    private const string KeyId = "LTAI5tOfficialClients";
    private const string Secret = "official-clients-secret";

    private readonly Sandbox _box = new();
    private readonly EmulatorState _cloud = new();
    private Microsoft.AspNetCore.Builder.WebApplication? _emulator;
    private Uri? _url;

    private static string Script => Path.Combine(Repo.Root, "tests", "Smc.Integration.Tests", "Tools", "official-alibaba-clients.mjs");

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
    public void OfficialClients_UploadImportDescribeDelete_AgainstTheEmulator()
    {
        byte[] disk = RandomNumberGenerator.GetBytes((300 << 10) + 123); // four parts of 100 KiB, the last one short
        string file = _box.File("disk.raw");
        File.WriteAllBytes(file, disk);

        var (code, stdout, stderr) = Tool.Run("node", [Script, _url!.ToString().TrimEnd('/'), KeyId, Secret, Bucket, Region, file], check: false);
        Assert.True(code == 0, stdout + stderr);
        List<JsonNode> steps = [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)];

        // OSS: the object the emulator holds is the file, assembled from the official client's four parts.
        Assert.True(disk.AsSpan().SequenceEqual(_cloud.OssObjects[$"{Bucket}/official/disk.raw"]), "the object differs from the uploaded file");
        Assert.Equal(4, _cloud.PartUploads.Count);
        Assert.Equal(0, _cloud.OpenUploads());

        // ECS: imported, polled (Creating… Available) with the other signature scheme, deleted.
        string imageId = steps.Single(s => s["step"]!.GetValue<string>() == "importImage")["imageId"]!.GetValue<string>();
        Assert.StartsWith("m-", imageId, StringComparison.Ordinal);
        JsonNode described = steps.Last(s => s["step"]!.GetValue<string>() == "describeImages");
        Assert.Equal("Available", described["status"]!.GetValue<string>());
        // Tag.N as the official client sends it, and Tags.Tag[] as it reads them back.
        Assert.Equal(["env=prod", "team=db"], described["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(0, steps.Single(s => s["step"]!.GetValue<string>() == "deleteImage")["remaining"]!.GetValue<int>());
        Assert.Equal(1, _cloud.Calls.GetValueOrDefault("ImportImage"));
        Assert.Equal(1, _cloud.Calls.GetValueOrDefault("DeleteImage"));
        Assert.True(_cloud.Calls.GetValueOrDefault("DescribeImages") >= 4, "describeImages was answered as signed with HMAC-SHA1");
        Assert.Empty(_cloud.ImageIds());
    }

    [Fact]
    public void OfficialClients_WrongSecret_RefusedWithTheirSignatureError_NothingStored()
    {
        string file = _box.File("small.raw");
        File.WriteAllBytes(file, RandomNumberGenerator.GetBytes(200 << 10));

        var (code, stdout, stderr) = Tool.Run("node", [Script, _url!.ToString().TrimEnd('/'), KeyId, "not-the-secret", Bucket, Region, file], check: false);
        Assert.True(code == 1, stdout + stderr);
        JsonNode error = JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last())!;
        Assert.Equal("SignatureDoesNotMatch", error["error"]!.GetValue<string>());
        Assert.Empty(_cloud.OssObjects);
        Assert.Equal(0, _cloud.OpenUploads());
        Assert.Empty(_cloud.ImageIds());
    }
}
