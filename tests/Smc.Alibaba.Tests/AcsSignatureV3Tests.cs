using Smc.Alibaba.Signing;

namespace Smc.Alibaba.Tests;

/// <summary><c>ACS3-HMAC-SHA256</c> against the vectors of docs/alibaba-api.md §2.3.</summary>
public sealed class AcsSignatureV3Tests
{
    private static readonly Dictionary<string, string> RunInstancesHeaders = new()
    {
        ["host"] = "ecs.cn-shanghai.aliyuncs.com",
        ["x-acs-action"] = "RunInstances",
        ["x-acs-version"] = "2014-05-26",
        ["x-acs-date"] = "2023-10-26T10:22:32Z",
        ["x-acs-signature-nonce"] = "3156853299f313e23d1673dc12e1703d",
        ["x-acs-content-sha256"] = AcsSignatureV3.EmptyPayloadSha256,
        ["accept"] = "application/json", // not signed
    };

    [Fact]
    public void OfficialFixedExample_TvV3_1_CanonicalRequestHashSignatureAuthorization()
    {
        var query = new Dictionary<string, string> { ["RegionId"] = "cn-shanghai", ["ImageId"] = "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd" };
        (string canonical, string signedHeaders) = AcsSignatureV3.Canonicalize("POST", "/", query, RunInstancesHeaders, AcsSignatureV3.EmptyPayloadSha256);
        Assert.Equal(
            "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n" +
            "host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
            "x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\n" +
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            canonical);
        Assert.Equal("7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259", AcsSignatureV3.HashedCanonicalRequest(canonical));
        string signature = AcsSignatureV3.Signature(canonical, "YourAccessKeySecret");
        Assert.Equal("06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0", signature);
        Assert.Equal(
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
            AcsSignatureV3.Authorization("YourAccessKeyId", signedHeaders, signature));
    }

    [Fact]
    public void CSharpSdkTest_TvV3Sdk_RepeatedHeaderJoinedSortedAndEmptyQueryValue()
    {
        var query = new Dictionary<string, string> { ["test"] = "ok", ["empty"] = "" };
        var headers = new List<KeyValuePair<string, string>> { new("x-acs-test", "http"), new("x-acs-TEST", "https") };
        (string canonical, string signedHeaders) = AcsSignatureV3.Canonicalize("GET", "/", query, headers, "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23");
        Assert.Equal("GET\n/\nempty=&test=ok\nx-acs-test:http, https\n\nx-acs-test\n55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23", canonical);
        Assert.Equal(
            "ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=be2046c5e1d69e715fec81597bb8f72330a7eab002d5cacd434dec1cb9be74ab",
            AcsSignatureV3.Authorization("acesskey", signedHeaders, AcsSignatureV3.Signature(canonical, "secret")));
    }

    [Fact]
    public void SameSdkRequestAsPost_TvV3Sdk_DoesNotMatch()
    {
        var query = new Dictionary<string, string> { ["test"] = "ok", ["empty"] = "" };
        var headers = new List<KeyValuePair<string, string>> { new("x-acs-test", "http"), new("x-acs-TEST", "https") };
        (string canonical, _) = AcsSignatureV3.Canonicalize("POST", "/", query, headers, "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23");
        Assert.NotEqual("be2046c5e1d69e715fec81597bb8f72330a7eab002d5cacd434dec1cb9be74ab", AcsSignatureV3.Signature(canonical, "secret"));
    }

    [Fact]
    public void FormBody_TvV3Form_BodyHashContentTypeSigned()
    {
        byte[] body = "RegionId=cn-hangzhou"u8.ToArray();
        string payload = AcsSignatureV3.PayloadSha256(body);
        Assert.Equal("acb32d261aada29a48734ef41e424fe8b3cfd2c453e1c8f6c83651024dd8e016", payload);
        var headers = new Dictionary<string, string>
        {
            ["content-type"] = "application/x-www-form-urlencoded",
            ["host"] = "ecs.cn-hangzhou.aliyuncs.com",
            ["x-acs-action"] = "DescribeRegions",
            ["x-acs-version"] = "2014-05-26",
            ["x-acs-date"] = "2023-10-26T10:22:32Z",
            ["x-acs-signature-nonce"] = "3156853299f313e23d1673dc12e1703d",
            ["x-acs-content-sha256"] = payload,
        };
        (string canonical, string signedHeaders) = AcsSignatureV3.Canonicalize("POST", "/", [], headers, payload);
        Assert.Equal("content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version", signedHeaders);
        Assert.Equal("0a4705141c4c95b9a43ca09c5dc0dd1052d47aa458acc1797abf7967db0ac2a0", AcsSignatureV3.HashedCanonicalRequest(canonical));
        Assert.Equal("26a48720ef65a51229b3fb93e33101df8f95c3bfd393704fe5c0613b132ba97d", AcsSignatureV3.Signature(canonical, "YourAccessKeySecret"));
    }

    [Fact]
    public void HashOfTest_SdkVector() =>
        Assert.Equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", AcsSignatureV3.PayloadSha256("test"u8));
}
