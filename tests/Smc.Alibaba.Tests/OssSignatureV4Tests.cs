using Smc.Alibaba.Signing;

namespace Smc.Alibaba.Tests;

/// <summary><c>OSS4-HMAC-SHA256</c> against the Go SDK v2 vector of docs/alibaba-api.md §5.3.</summary>
public sealed class OssSignatureV4Tests
{
    private static readonly KeyValuePair<string, string?>[] GoQuery =
    [
        new("param1", "value1"), new("+param1", "value3"), new("|param1", "value4"), new("+param2", ""), new("|param2", ""), new("param2", ""),
    ];

    private static Dictionary<string, string> Headers() => new()
    {
        ["x-oss-head1"] = "value",
        ["abc"] = "value",
        ["ZAbc"] = "value",
        ["XYZ"] = "value",
        ["content-type"] = "text/plain",
        ["x-oss-content-sha256"] = "UNSIGNED-PAYLOAD",
    };

    [Fact]
    public void GoSdkCase1_TvOss4Sdk_CanonicalPartsAndAuthorization()
    {
        Assert.Equal("/bucket/1234%2B-/123/1.txt", OssSignatureV4.CanonicalUri("bucket", "1234+-/123/1.txt"));
        Assert.Equal("%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2", OssSignatureV4.CanonicalQuery(GoQuery));

        Dictionary<string, string> headers = Headers();
        (string authorization, string canonical) = OssSignatureV4.Sign("PUT", "bucket", "1234+-/123/1.txt", GoQuery, headers, [], "ak", "sk", "cn-hangzhou",
            DateTimeOffset.FromUnixTimeSeconds(1702743657));
        Assert.Equal("20231216T162057Z", headers["x-oss-date"]);
        Assert.Contains("\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD", canonical, StringComparison.Ordinal);
        Assert.Equal("OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe", authorization);
    }

    [Fact]
    public void OtherRegionOrSecret_SignatureDiffers()
    {
        string Sign(string region, string secret) =>
            OssSignatureV4.Sign("PUT", "bucket", "1234+-/123/1.txt", GoQuery, Headers(), [], "ak", secret, region, DateTimeOffset.FromUnixTimeSeconds(1702743657)).Authorization;
        string reference = Sign("cn-hangzhou", "sk");
        Assert.NotEqual(reference, Sign("oss-cn-hangzhou", "sk"));
        Assert.NotEqual(reference, Sign("cn-hangzhou", "sk2"));
    }

    [Fact]
    public void AdditionalHeaders_AreSignedAndListed()
    {
        (string authorization, string canonical) = OssSignatureV4.Sign("PUT", "bucket", "1234+-/123/1.txt", GoQuery, Headers(), ["abc", "ZAbc"], "ak", "sk", "cn-hangzhou",
            DateTimeOffset.FromUnixTimeSeconds(1702747512));
        Assert.Contains(",AdditionalHeaders=abc;zabc,", authorization, StringComparison.Ordinal);
        Assert.Contains("abc:value\ncontent-type:text/plain\n", canonical, StringComparison.Ordinal);
        Assert.EndsWith("Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f", authorization, StringComparison.Ordinal);
    }
}
