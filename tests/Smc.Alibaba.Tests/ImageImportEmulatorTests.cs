using Smc.Core.Ports;

namespace Smc.Alibaba.Tests;

/// <summary>ImportImage through the client against the emulator: the async lifecycle, idempotency, and the errors an operator must fix.</summary>
public sealed class ImageImportEmulatorTests : EmulatorTest
{
    public ImageImportEmulatorTests()
    {
        State.OssBuckets["migrations"] = "cn-hangzhou";
        State.OssObjects["migrations/j-1/disk0.raw"] = [1, 2, 3];
    }

    private EcsImageApi Api => new(new EcsClient(new HttpClient(), Options(), TimeProvider.System));

    [Fact]
    public async Task Import_CreatingWithProgress_ThenAvailable_ThenDeleted()
    {
        ImportedImage started = await Api.ImportAsync(Request("web-01-r0", "tok-1"));
        Assert.StartsWith("m-", started.ImageId, StringComparison.Ordinal);
        Assert.StartsWith("t-", started.TaskId, StringComparison.Ordinal);

        var seen = new List<CloudImageState>();
        for (int poll = 0; poll < 5 && seen.LastOrDefault()?.Status is null or "Creating"; poll++)
        {
            seen.Add((await Api.GetAsync("cn-hangzhou", started.ImageId))!);
        }

        Assert.Equal(["Creating", "Creating", "Available"], seen.Select(i => i.Status));
        Assert.True(seen[0].ProgressPercent < seen[1].ProgressPercent && seen[2].ProgressPercent == 100, string.Join(", ", seen));

        await Api.DeleteAsync("cn-hangzhou", started.ImageId);
        Assert.Null(await Api.GetAsync("cn-hangzhou", started.ImageId));
    }

    [Fact]
    public async Task DeleteWhileImporting_ImageIsImporting_UntilCancelled()
    {
        ImportedImage started = await Api.ImportAsync(Request("web-02-r0", "tok-2"));
        var e = await Assert.ThrowsAsync<AlibabaException>(() => Api.DeleteAsync("cn-hangzhou", started.ImageId));
        Assert.Equal("ImageIsImporting", e.Code);
        Assert.Equal(AlibabaErrorKind.UserError, e.Kind);

        await Api.CancelImportAsync("cn-hangzhou", started.TaskId);
        Assert.Equal("CreateFailed", (await Api.GetAsync("cn-hangzhou", started.ImageId))!.Status);
        await Api.DeleteAsync("cn-hangzhou", started.ImageId);
    }

    [Fact]
    public async Task Tasks_ShowTheImportAndWhyItFailed_RegionsAreListed()
    {
        State.FailImports = true;
        ImportedImage started = await Api.ImportAsync(Request("web-04-r0", "tok-4"));
        Assert.Equal(["Processing"], (await Api.ListImportTasksAsync("cn-hangzhou", [started.TaskId])).Select(t => t.Status));
        CloudTaskState task;
        do
        {
            task = await Api.GetTaskAsync("cn-hangzhou", started.TaskId);
        }
        while (task.Status == "Processing");

        Assert.Equal("Failed", task.Status);
        Assert.Equal("InvalidImage.Unsupported", task.ErrorCode);
        Assert.False(string.IsNullOrEmpty(task.ErrorMessage));
        Assert.Equal(["Failed"], (await Api.ListImportTasksAsync("cn-hangzhou", [started.TaskId])).Select(t => t.Status));
        Assert.Contains("cn-hangzhou", await Api.ListRegionsAsync("cn-hangzhou"));
    }

    [Fact]
    public async Task RunInstance_FromAnAvailableImage_OnceForItsClientToken_RefusedWhileImporting()
    {
        ImportedImage started = await Api.ImportAsync(Request("web-05-r0", "tok-5"));
        var request = new CloudLaunchRequest("cn-hangzhou", started.ImageId, "launch-1", "web-05-test", "ecs.g7.large", "vsw-1", "sg-1", null, null);
        var early = await Assert.ThrowsAsync<AlibabaException>(() => Api.RunInstanceAsync(request));
        Assert.Equal("IncorrectImageStatus", early.Code);
        while ((await Api.GetAsync("cn-hangzhou", started.ImageId))!.Status != "Available")
        {
        }

        string instance = await Api.RunInstanceAsync(request);
        Assert.StartsWith("i-", instance, StringComparison.Ordinal);
        Assert.Equal(instance, await Api.RunInstanceAsync(request)); // a retry is the same instance
        Assert.Equal(started.ImageId, State.Instances.Single().Value);
        var missing = await Assert.ThrowsAsync<AlibabaException>(() => Api.RunInstanceAsync(request with { ClientToken = "launch-2", SecurityGroupId = null }));
        Assert.Equal("MissingParameter", missing.Code);
    }

    [Fact]
    public async Task ServerErrorDuringImport_RetriedWithTheClientToken_OneImage()
    {
        State.Faults.Enqueue("InternalError");
        State.Faults.Enqueue("Throttling");
        ImportedImage started = await Api.ImportAsync(Request("web-03-r0", "tok-3"));
        Assert.Equal(3, State.Calls["ImportImage"]);

        // The same call again (a control plane that crashed before recording the answer): the same image, not a second one.
        ImportedImage again = await Api.ImportAsync(Request("web-03-r0", "tok-3"));
        Assert.Equal(started, again);

        var mismatch = await Assert.ThrowsAsync<AlibabaException>(() => Api.ImportAsync(Request("web-03-other", "tok-3")));
        Assert.Equal("IdempotentParameterMismatch", mismatch.Code);
    }

    [Fact]
    public async Task ImportThatFails_EndsCreateFailed()
    {
        State.FailImports = true;
        ImportedImage started = await Api.ImportAsync(Request("web-04-r0", "tok-4"));
        CloudImageState? image = null;
        for (int poll = 0; poll < 5 && image?.Status is null or "Creating"; poll++)
        {
            image = await Api.GetAsync("cn-hangzhou", started.ImageId);
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
        State.RamRoleAuthorized = fault != "role";
        ImportImageRequest request = Request(fault == "name" ? "9-starts-with-a-digit" : $"web-05-{fault}", $"tok-5-{fault}");
        request = fault switch
        {
            "object" => request with { Disks = [new ImportDisk("migrations", "j-1/missing.raw", "RAW", 40)] },
            "bucket" => request with { Disks = [new ImportDisk("no-such-bucket", "j-1/disk0.raw", "RAW", 40)] },
            "region" => request with { RegionId = "cn-shanghai" },
            _ => request,
        };

        var e = await Assert.ThrowsAsync<AlibabaException>(() => Api.ImportAsync(request));
        Assert.Equal(code, e.Code);
        Assert.Equal(status, e.Status);
        Assert.Equal(AlibabaErrorKind.UserError, e.Kind);
        Assert.Equal(1, State.Calls["ImportImage"]);
    }

    [Fact]
    public async Task Tags_ReachTheImageAsTagN_AndAReservedKeyIsRefusedWithEcsCode()
    {
        ImportedImage started = await Api.ImportAsync(Request("web-05-r0", "tok-5") with { Tags = new Dictionary<string, string> { ["env"] = "prod", ["owner"] = "" } });
        Assert.Equal([("env", "prod"), ("owner", "")], State.ImageTags(started.ImageId).OrderBy(t => t.Key, StringComparer.Ordinal));

        var e = await Assert.ThrowsAsync<AlibabaException>(() => Api.ImportAsync(Request("web-06-r0", "tok-6") with { Tags = new Dictionary<string, string> { ["acs:x"] = "1" } }));
        Assert.Equal("InvalidTagKey.Malformed", e.Code);
        Assert.Equal(AlibabaErrorKind.UserError, e.Kind);
    }

    private static ImportImageRequest Request(string name, string token) =>
        new("cn-hangzhou", name, [new ImportDisk("migrations", "j-1/disk0.raw", "RAW", 40)], token);
}
