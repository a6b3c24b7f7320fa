using Microsoft.AspNetCore.Builder;
using Smc.Alibaba.Emulator;

namespace Smc.Alibaba.Tests;

/// <summary>ImportImage through the client against the emulator: the async lifecycle, idempotency, and the errors an operator must fix.</summary>
public sealed class ImageImportEmulatorTests : IAsyncLifetime
{
    private readonly EmulatorState _state = new();
    private WebApplication _emulator = null!;
    private EcsImageApi _api = null!;

    public async Task InitializeAsync()
    {
        _state.Accounts["LTAI-test"] = "test-secret";
        _state.OssBuckets["migrations"] = "cn-hangzhou";
        _state.OssObjects["migrations/j-1/disk0.raw"] = [1, 2, 3];
        (_emulator, Uri url) = await AlibabaEmulator.StartAsync(_state);
        _api = new EcsImageApi(new EcsClient(new HttpClient(), new AlibabaOptions
        {
            AccessKeyId = "LTAI-test",
            AccessKeySecret = "test-secret",
            EcsEndpoint = url,
            RetryDelay = TimeSpan.FromMilliseconds(10),
        }, TimeProvider.System));
    }

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    [Fact]
    public async Task Import_CreatingWithProgress_ThenAvailable_ThenDeleted()
    {
        ImportedImage started = await _api.ImportAsync(Request("web-01-r0", "tok-1"));
        Assert.StartsWith("m-", started.ImageId, StringComparison.Ordinal);
        Assert.StartsWith("t-", started.TaskId, StringComparison.Ordinal);

        var seen = new List<EcsImage>();
        for (int poll = 0; poll < 5 && seen.LastOrDefault()?.Status is null or "Creating"; poll++)
        {
            seen.Add((await _api.GetAsync("cn-hangzhou", started.ImageId))!);
        }

        Assert.Equal(["Creating", "Creating", "Available"], seen.Select(i => i.Status));
        Assert.True(seen[0].ProgressPercent < seen[1].ProgressPercent && seen[2].ProgressPercent == 100, string.Join(", ", seen));

        await _api.DeleteAsync("cn-hangzhou", started.ImageId);
        Assert.Null(await _api.GetAsync("cn-hangzhou", started.ImageId));
    }

    [Fact]
    public async Task DeleteWhileImporting_ImageIsImporting_UntilCancelled()
    {
        ImportedImage started = await _api.ImportAsync(Request("web-02-r0", "tok-2"));
        var e = await Assert.ThrowsAsync<AlibabaException>(() => _api.DeleteAsync("cn-hangzhou", started.ImageId));
        Assert.Equal("ImageIsImporting", e.Code);
        Assert.Equal(AlibabaErrorKind.UserError, e.Kind);

        await _api.CancelImportAsync("cn-hangzhou", started.TaskId);
        Assert.Equal("CreateFailed", (await _api.GetAsync("cn-hangzhou", started.ImageId))!.Status);
        await _api.DeleteAsync("cn-hangzhou", started.ImageId);
    }

    [Fact]
    public async Task ServerErrorDuringImport_RetriedWithTheClientToken_OneImage()
    {
        _state.Faults.Enqueue("InternalError");
        _state.Faults.Enqueue("Throttling");
        ImportedImage started = await _api.ImportAsync(Request("web-03-r0", "tok-3"));
        Assert.Equal(3, _state.Calls["ImportImage"]);

        // The same call again (a control plane that crashed before recording the answer): the same image, not a second one.
        ImportedImage again = await _api.ImportAsync(Request("web-03-r0", "tok-3"));
        Assert.Equal(started, again);

        var mismatch = await Assert.ThrowsAsync<AlibabaException>(() => _api.ImportAsync(Request("web-03-other", "tok-3")));
        Assert.Equal("IdempotentParameterMismatch", mismatch.Code);
    }

    [Fact]
    public async Task ImportThatFails_EndsCreateFailed()
    {
        _state.FailImports = true;
        ImportedImage started = await _api.ImportAsync(Request("web-04-r0", "tok-4"));
        EcsImage? image = null;
        for (int poll = 0; poll < 5 && image?.Status is null or "Creating"; poll++)
        {
            image = await _api.GetAsync("cn-hangzhou", started.ImageId);
        }

        Assert.Equal("CreateFailed", image!.Status);
    }

    [Theory]
    [InlineData("role", "NoSetRoletoECSServiceAcount", 403)]
    [InlineData("object", "InvalidOSSObject.NotFound", 400)]
    [InlineData("bucket", "InvalidOSSBucket.NotFound", 400)]
    [InlineData("region", "InvalidOSSBucket.NotFound", 400)]
    [InlineData("name", "InvalidImageName.Malformed", 400)]
    public async Task WhatTheOperatorMustFix_PreciseCode_NoRetry(string fault, string code, int status)
    {
        _state.RamRoleAuthorized = fault != "role";
        ImportImageRequest request = Request(fault == "name" ? "9-starts-with-a-digit" : $"web-05-{fault}", $"tok-5-{fault}");
        request = fault switch
        {
            "object" => request with { Disks = [new ImportDisk("migrations", "j-1/missing.raw", "RAW", 40)] },
            "bucket" => request with { Disks = [new ImportDisk("no-such-bucket", "j-1/disk0.raw", "RAW", 40)] },
            "region" => request with { RegionId = "cn-shanghai" },
            _ => request,
        };

        var e = await Assert.ThrowsAsync<AlibabaException>(() => _api.ImportAsync(request));
        Assert.Equal(code, e.Code);
        Assert.Equal(status, e.Status);
        Assert.Equal(AlibabaErrorKind.UserError, e.Kind);
        Assert.Equal(1, _state.Calls["ImportImage"]);
    }

    private static ImportImageRequest Request(string name, string token) =>
        new("cn-hangzhou", name, [new ImportDisk("migrations", "j-1/disk0.raw", "RAW", 40)], token);
}
