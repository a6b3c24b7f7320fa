using Smc.Alibaba.Signing;

namespace Smc.Alibaba.Tests;

/// <summary>
/// The façade's signature check on the official fixed V3 example (TV-V3-1, docs/alibaba-api.md §2.3): accepted at its
/// own time, once; refused replayed, late, tampered, or without a signed header the gateway requires.
/// </summary>
public sealed class AcsRequestVerifierTests
{
    private const string Signature = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0";

    private static AcsSignedRequest Official(string signature = Signature, byte[]? body = null, string signedHeaders = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version") => new(
        "POST",
        "/",
        [new("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), new("RegionId", "cn-shanghai")],
        [],
        new Dictionary<string, string>
        {
            ["host"] = "ecs.cn-shanghai.aliyuncs.com",
            ["x-acs-action"] = "RunInstances",
            ["x-acs-version"] = "2014-05-26",
            ["x-acs-date"] = "2023-10-26T10:22:32Z",
            ["x-acs-signature-nonce"] = "3156853299f313e23d1673dc12e1703d",
            ["x-acs-content-sha256"] = AcsSignatureV3.EmptyPayloadSha256,
            ["authorization"] = $"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={signedHeaders},Signature={signature}",
        },
        body ?? []);

    private readonly HashSet<string> _nonces = [];

    private async Task<AcsVerified> VerifyAsync(AcsSignedRequest request, DateTimeOffset now) =>
        await new AcsRequestVerifier(new Clock(now)).VerifyAsync(request,
            id => Task.FromResult(id == "YourAccessKeyId" ? "YourAccessKeySecret" : null),
            (id, nonce) => Task.FromResult(_nonces.Add(id + ":" + nonce)));

    private static readonly DateTimeOffset SignedAt = new(2023, 10, 26, 10, 22, 32, TimeSpan.Zero);

    [Fact]
    public async Task TheOfficialExample_IsAccepted_Once()
    {
        AcsVerified ok = await VerifyAsync(Official(), SignedAt.AddMinutes(3));
        Assert.Equal(("YourAccessKeyId", "RunInstances", "2014-05-26", "cn-shanghai"), (ok.AccessKeyId, ok.Action, ok.Version, ok.Parameters["RegionId"]));

        AcsRefusedException replay = await Assert.ThrowsAsync<AcsRefusedException>(() => VerifyAsync(Official(), SignedAt.AddMinutes(4)));
        Assert.Equal((400, "SignatureNonceUsed"), (replay.Status, replay.Code));
    }

    [Fact]
    public async Task Refusals_LateTamperedUnsignedUnknown_EachWithItsCode()
    {
        Assert.Equal("InvalidTimeStamp.Expired", (await Assert.ThrowsAsync<AcsRefusedException>(() => VerifyAsync(Official(), SignedAt.AddMinutes(16)))).Code);
        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<AcsRefusedException>(() => VerifyAsync(Official(Signature.Replace('6', '7')), SignedAt))).Code);
        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<AcsRefusedException>(() => VerifyAsync(Official(body: "x"u8.ToArray()), SignedAt))).Code);
        Assert.Equal("IncompleteSignature", (await Assert.ThrowsAsync<AcsRefusedException>(() => VerifyAsync(Official(signedHeaders: "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-version"), SignedAt))).Code);
        AcsSignedRequest unknown = Official() with { Headers = new Dictionary<string, string>(Official().Headers) { ["authorization"] = Official().Headers["authorization"].Replace("YourAccessKeyId", "SomeoneElse", StringComparison.Ordinal) } };
        AcsRefusedException notFound = await Assert.ThrowsAsync<AcsRefusedException>(() => VerifyAsync(unknown, SignedAt));
        Assert.Equal((404, "InvalidAccessKeyId.NotFound"), (notFound.Status, notFound.Code));
        Assert.Empty(_nonces); // nothing refused took a nonce
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
