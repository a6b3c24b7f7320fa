using System.Net;
using System.Text.Json;

namespace Smc.Alibaba.Tests;

/// <summary>
/// The ECS client against the emulator over real HTTP on loopback: both signature schemes accepted, a wrong secret,
/// a replayed nonce and a stale timestamp refused with Alibaba's codes, throttling and server errors retried only where
/// that is safe.
/// </summary>
public sealed class EcsClientEmulatorTests : EmulatorTest
{
    [Theory]
    [InlineData("V3")]
    [InlineData("RPC")]
    public async Task DescribeRegions_SignedEitherWay_Accepted(string signature)
    {
        JsonElement answer = await Client(signature: signature).CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: true);
        Assert.Contains(answer.GetProperty("Regions").GetProperty("Region").EnumerateArray(), r => r.GetProperty("RegionId").GetString() == "cn-shanghai");
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("RequestId").GetString()));
    }

    [Theory]
    [InlineData("V3")]
    [InlineData("RPC")]
    public async Task WrongSecret_SignatureDoesNotMatch_UserErrorWithoutRetry(string signature)
    {
        var e = await Assert.ThrowsAsync<AlibabaException>(() => Client(secret: "not-the-secret", signature: signature).CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: true));
        Assert.Equal("SignatureDoesNotMatch", e.Code);
        Assert.Equal(AlibabaErrorKind.UserError, e.Kind);
        Assert.NotNull(e.RequestId);
        Assert.False(State.Calls.ContainsKey("DescribeRegions"));
    }

    [Fact]
    public async Task UnknownAccessKey_InvalidAccessKeyIdNotFound()
    {
        var client = new EcsClient(new HttpClient(), new AlibabaOptions { AccessKeyId = "LTAI-nobody", AccessKeySecret = "x", EcsEndpoint = Url }, TimeProvider.System);
        var e = await Assert.ThrowsAsync<AlibabaException>(() => client.CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: true));
        Assert.Equal("InvalidAccessKeyId.NotFound", e.Code);
    }

    [Fact]
    public async Task StaleTimestamp_Refused()
    {
        var e = await Assert.ThrowsAsync<AlibabaException>(() => Client(clock: new FixedClock(DateTimeOffset.UtcNow.AddMinutes(-20))).CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: true));
        Assert.Equal("InvalidTimeStamp.Expired", e.Code);
    }

    [Fact]
    public async Task ReplayedRequest_SignatureNonceUsed()
    {
        // The same signed request twice, byte for byte, as a replaying attacker would send it.
        var recorder = new RecordingHandler();
        var client = new EcsClient(new HttpClient(recorder), Options("test-secret", "V3"), TimeProvider.System);
        await client.CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: true);
        using var replay = new HttpClient();
        using HttpRequestMessage again = recorder.Last!;
        HttpResponseMessage response = await replay.SendAsync(again);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("SignatureNonceUsed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttling_RetriedAfterTheDelayTheServiceNames()
    {
        State.Faults.Enqueue("Throttling");
        State.Faults.Enqueue("Throttling");
        JsonElement answer = await Client().CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: false);
        Assert.True(answer.TryGetProperty("Regions", out _));
        Assert.Equal(3, State.Calls["DescribeRegions"]);
    }

    [Fact]
    public async Task ServerError_RetriedOnlyWhenIdempotentOrWithClientToken()
    {
        State.Faults.Enqueue("InternalError");
        var e = await Assert.ThrowsAsync<AlibabaException>(() => Client().CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string>(), idempotent: false));
        Assert.Equal(AlibabaErrorKind.Transient, e.Kind);
        Assert.Equal(1, State.Calls["DescribeRegions"]);

        State.Faults.Enqueue("InternalError");
        await Client().CallAsync("DescribeRegions", "cn-hangzhou", new Dictionary<string, string> { ["ClientToken"] = "t-1" }, idempotent: false);
        Assert.Equal(3, State.Calls["DescribeRegions"]);
    }

    [Fact]
    public void Endpoints_RegionalVpcAndTheSdkMapEntry()
    {
        var client = new EcsClient(new HttpClient(), new AlibabaOptions { AccessKeyId = "a", AccessKeySecret = "b" }, TimeProvider.System);
        Assert.Equal(new Uri("https://ecs.cn-shanghai.aliyuncs.com"), client.EndpointFor("cn-shanghai"));
        Assert.Equal(new Uri("https://ecs-cn-hangzhou.aliyuncs.com"), client.EndpointFor("cn-hangzhou"));
        var vpc = new EcsClient(new HttpClient(), new AlibabaOptions { AccessKeyId = "a", AccessKeySecret = "b", UseVpcEndpoint = true }, TimeProvider.System);
        Assert.Equal(new Uri("https://ecs-vpc.cn-shanghai.aliyuncs.com"), vpc.EndpointFor("cn-shanghai"));
    }

    private EcsClient Client(string secret = "test-secret", string signature = "V3", TimeProvider? clock = null) =>
        new(new HttpClient(), Options(secret, signature), clock ?? TimeProvider.System);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Passes requests on and keeps a copy of the last one, to send it again.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new HttpClientHandler())
    {
        public HttpRequestMessage? Last { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Content = new ByteArrayContent([]) };
            foreach (var header in request.Headers)
            {
                copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            Last = copy;
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
