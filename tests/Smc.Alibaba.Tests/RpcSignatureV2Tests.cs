using Smc.Alibaba.Signing;

namespace Smc.Alibaba.Tests;

/// <summary>The RPC "V2" (HMAC-SHA1) signature against the vectors of docs/alibaba-api.md §1.3.</summary>
public sealed class RpcSignatureV2Tests
{
    private static Dictionary<string, string?> DescribeRegions(string timestampName = "Timestamp") => new()
    {
        [timestampName] = "2016-02-23T12:46:24Z",
        ["Format"] = "XML",
        ["AccessKeyId"] = "testid",
        ["Action"] = "DescribeRegions",
        ["SignatureMethod"] = "HMAC-SHA1",
        ["SignatureNonce"] = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        ["Version"] = "2014-05-26",
        ["SignatureVersion"] = "1.0",
    };

    [Fact]
    public void OfficialEcsExample_TvRpc1_StringToSignAndSignature()
    {
        string stringToSign = RpcSignatureV2.StringToSign("GET", DescribeRegions());
        Assert.Equal(
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
            stringToSign);
        string signature = RpcSignatureV2.Sign(stringToSign, "testsecret");
        Assert.Equal("OLeaidS1JvxuMvnyHOwuJ+uX5qY=", signature);
        Assert.Equal("OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D", AcsEncoding.Percent(signature));
    }

    [Fact]
    public void SameExampleAsPost_TvRpc1P()
    {
        Assert.Equal("MxbnVAM4w6sft9xjVpe/GCKueuk=", RpcSignatureV2.Sign(RpcSignatureV2.StringToSign("POST", DescribeRegions()), "testsecret"));
    }

    [Fact]
    public void LegacyPublishedSignature_TvRpcLegacy_IsNotTheSignatureOfATimestampRequest()
    {
        // CT9X0… is still printed beside the example, but belongs to a request that spells the parameter "TimeStamp".
        Assert.NotEqual("CT9X0VtwR86fNWSnsc6v8YGOjuE=", RpcSignatureV2.Sign(RpcSignatureV2.StringToSign("GET", DescribeRegions()), "testsecret"));
        Assert.Equal("CT9X0VtwR86fNWSnsc6v8YGOjuE=", RpcSignatureV2.Sign(RpcSignatureV2.StringToSign("GET", DescribeRegions("TimeStamp")), "testsecret"));
    }

    [Fact]
    public void CSharpSdkTest_TvRpcSdk_SignsMergedQueryAndBody()
    {
        string stringToSign = RpcSignatureV2.StringToSign("GET", new Dictionary<string, string?> { ["query"] = "test", ["body"] = "test" });
        Assert.Equal("GET&%2F&body%3Dtest%26query%3Dtest", stringToSign);
        Assert.Equal("XlUyV4sXjOuX5FnjUz9IF9tm5rU=", RpcSignatureV2.Sign(stringToSign, "secret"));
    }

    [Fact]
    public void NullValuesAndTheSignatureItself_AreLeftOut()
    {
        var parameters = DescribeRegions();
        string expected = RpcSignatureV2.StringToSign("GET", parameters);
        parameters["Signature"] = "anything";
        parameters["SecurityToken"] = null;
        Assert.Equal(expected, RpcSignatureV2.StringToSign("GET", parameters));
    }

    [Theory]
    [InlineData("foo", "secret", "m67ZG+f1i1fIJLYNp8smKy7K+9I=")]
    [InlineData("stringtosign", "secret", "OmuTAr79tpI6CRoAdmzKRq5lHs0=")]
    public void RawHmacVectors_KeyUsedAsGiven(string text, string key, string expected) =>
        Assert.Equal(expected, RpcSignatureV2.Hmac(text, key));

    [Theory]
    [InlineData("2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z")]
    [InlineData("a b", "a%20b")]
    [InlineData("a*b", "a%2Ab")]
    [InlineData("a~b", "a~b")]
    [InlineData("/", "%2F")]
    [InlineData("é", "%C3%A9")]
    [InlineData("a/b/c/ test", "a%2Fb%2Fc%2F%20test")]
    public void PercentEncoding_Vectors(string value, string expected) => Assert.Equal(expected, AcsEncoding.Percent(value));
}
