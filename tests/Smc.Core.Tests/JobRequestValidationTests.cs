using System.Text.Json;
using System.Text.Json.Serialization;
using Smc.Core.Api;
using Smc.Core.Errors;
using Smc.Core.Security;
using Smc.Core.Services;

namespace Smc.Core.Tests;

/// <summary>
/// A job request's fields against SMC's rules, on <see cref="JobRequests.Build"/> itself (it is pure: no store, no
/// clock but the one given). What only the API can show — JSON binding, unknown fields, a source that doesn't exist,
/// nothing stored after a refusal — stays in the integration suite (JobTests).
/// </summary>
public sealed class JobRequestValidationTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("{\"targetType\":\"Floppy\"}", "InvalidParameter.TargetType")]
    [InlineData("{\"imageProvider\":\"aws\"}", "InvalidParameter.ImageProvider")]
    [InlineData("{\"imageProvider\":\"alibaba\"}", "InvalidParameter.RegionId")]
    [InlineData("{\"instanceType\":\"ecs.g7.large\"}", "InvalidParameter.Launch")]
    [InlineData("{\"imageProvider\":\"alibaba\",\"regionId\":\"cn-hangzhou\",\"instanceType\":\"ecs.g7.large\"}", "InvalidParameter.Launch")]
    [InlineData("{\"runOnce\":false}", "InvalidParameter.Frequency")]
    [InlineData("{\"runOnce\":false,\"syncInterval\":\"PT3S\"}", "InvalidParameter.Frequency")]
    [InlineData("{\"runOnce\":false,\"syncInterval\":\"P8D\"}", "InvalidParameter.Frequency")]
    [InlineData("{\"runOnce\":false,\"syncInterval\":\"hourly\"}", "InvalidParameter.Frequency")]
    [InlineData("{\"maxNumberOfImageToKeep\":11}", "InvalidParameter.MaxNumberOfImageToKeep")]
    [InlineData("{\"systemDiskSize\":0}", "InvalidParameter.SystemDiskSize")]
    [InlineData("{\"replicationParameters\":{\"threads\":100}}", "InvalidParameter.ReplicationParameters")]
    [InlineData("{\"targetType\":\"ContainerImage\"}", "InvalidParameter.Container")]
    [InlineData("{\"excludePaths\":[\"/var/cache\"]}", "InvalidParameter.Container")]
    [InlineData("{\"targetType\":\"ContainerImage\",\"containerNamespace\":\"a\",\"containerRepository\":\"b\",\"containerTag\":\"c\",\"excludePaths\":[\"var/cache\"]}", "InvalidParameter.Container")]
    [InlineData("{\"targetType\":\"ContainerImage\",\"containerNamespace\":\"a\",\"containerRepository\":\"b\",\"containerTag\":\"c\",\"includePaths\":[\"/srv/../etc\"]}", "InvalidParameter.Container")]
    [InlineData("{\"scheduledStartTime\":\"2001-01-01T00:00:00Z\"}", "InvalidParameter.ScheduledStartTime")]
    [InlineData("{\"validTime\":\"2099-01-01T00:00:00Z\"}", "InvalidParameter.ValidTime")]
    [InlineData("{\"runOnce\":false,\"syncInterval\":\"PT1H\",\"validTime\":\"2001-01-01T00:00:00Z\"}", "InvalidParameter.ValidTime")]
    [InlineData("{\"runOnce\":false,\"syncInterval\":\"PT1H\",\"validTime\":\"2099-01-01T00:00:00Z\"}", "InvalidParameter.ValidTime")]
    [InlineData("{\"dataDisks\":[{\"index\":0,\"size\":10}]}", "InvalidParameter.DataDisks")]
    public void Build_FieldAgainstTheRules_400WithItsCode(string fields, string code)
    {
        SmcException e = Assert.Throws<SmcException>(() => JobRequests.Build(Request(fields), Ids.New(Ids.JobPrefix), Now, MinInterval));
        Assert.Equal(code, e.Code);
        Assert.Equal(400, e.Status);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"runOnce\":false,\"syncInterval\":\"PT1H\",\"validTime\":\"2026-12-20T00:00:00Z\"}")]
    [InlineData("{\"imageProvider\":\"alibaba\",\"regionId\":\"cn-hangzhou\",\"instanceType\":\"ecs.g7.large\",\"vSwitchId\":\"vsw-1\",\"securityGroupId\":\"sg-1\"}")]
    [InlineData("{\"targetType\":\"ContainerImage\",\"containerNamespace\":\"a\",\"containerRepository\":\"b\",\"containerTag\":\"c\",\"excludePaths\":[\"/var/cache\"]}")]
    public void Build_ValidRequest_MakesTheJob(string fields)
    {
        string id = Ids.New(Ids.JobPrefix);
        Domain.ReplicationJob job = JobRequests.Build(Request(fields), id, Now, MinInterval);
        Assert.Equal(id, job.JobId);
        Assert.Equal("s-abcdefghijklmnop", job.SourceId);
    }

    /// <summary>The fields over a request that is valid without them (a source and a name).</summary>
    private static CreateReplicationJobRequest Request(string fields)
    {
        CreateReplicationJobRequest request = JsonSerializer.Deserialize<CreateReplicationJobRequest>(fields, Json)!;
        return request with { SourceId = request.SourceId ?? "s-abcdefghijklmnop", Name = request.Name ?? "j1" };
    }
}
