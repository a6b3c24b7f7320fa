using Smc.Core.Ports;

namespace Smc.Alibaba.Tests;

/// <summary>
/// Temporary Container Registry logins against the emulator: Enterprise Edition through the signed RPC action
/// (the emulator checks the signature, version and instance), Personal Edition through the signed ROA route; ACR's
/// host names recognised, other registries left to the configured login; refusals as user errors with what to set.
/// </summary>
public sealed class AcrLoginsEmulatorTests : EmulatorTest
{
    private sealed class Fixed(RegistryLogin? login) : IRegistryLogins
    {
        public Task<RegistryLogin?> LoginAsync(string registry, CancellationToken cancellationToken = default) => Task.FromResult(login);
    }

    private AcrLogins Logins(AlibabaOptions options, RegistryLogin? fallback = null) =>
        new(new HttpClient(), options, TimeProvider.System, new Fixed(fallback));

    private AlibabaOptions Acr(string secret = "test-secret", string signature = "V3", string? instance = "cri-emulated0001") =>
        new() { AccessKeyId = "LTAI-test", AccessKeySecret = secret, CrEndpoint = Url, Signature = signature, AcrInstanceId = instance, RetryDelay = TimeSpan.FromMilliseconds(10) };

    [Theory]
    [InlineData("V3")]
    [InlineData("RPC")]
    public async Task EnterpriseHost_GetsTheTemporaryLogin_AndKeepsIt(string signature)
    {
        AcrLogins logins = Logins(Acr(signature: signature));
        RegistryLogin? login = await logins.LoginAsync("myinst-registry.cn-hangzhou.cr.aliyuncs.com");
        Assert.Equal(State.AcrUsername, login!.Username);
        Assert.Equal(State.AcrPassword, login.Password);
        Assert.True(login.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Same(login, await logins.LoginAsync("myinst-registry.cn-hangzhou.cr.aliyuncs.com"));
        Assert.Equal(1, State.Calls["GetAuthorizationToken"]);
        Assert.DoesNotContain(State.AcrPassword, login.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("registry.cn-shanghai.aliyuncs.com")]
    [InlineData("registry-vpc.cn-shanghai.aliyuncs.com")]
    [InlineData("crpi-abc123.cn-shanghai.personal.cr.aliyuncs.com")]
    public async Task PersonalHost_GetsTheLoginFromTheTokensRoute(string host)
    {
        RegistryLogin? login = await Logins(Acr()).LoginAsync(host);
        Assert.Equal(State.AcrPassword, login!.Password);
        Assert.Equal(1, State.Calls["GetAuthorizationToken(personal)"]);
        Assert.False(State.Calls.ContainsKey("GetAuthorizationToken"));
    }

    [Fact]
    public async Task OtherRegistry_GetsTheConfiguredLogin_WithoutAsking()
    {
        var configured = new RegistryLogin("smc", "static");
        Assert.Same(configured, await Logins(Acr(), configured).LoginAsync("registry.example.com:5000"));
        Assert.Empty(State.Calls);
    }

    [Fact]
    public async Task CustomDomain_FromAcrRegistries()
    {
        AlibabaOptions options = Acr(instance: null);
        options.AcrRegistries = "images.example.com=enterprise:cn-beijing:cri-emulated0001; other.example.com=personal:cn-beijing";
        Assert.Equal(State.AcrPassword, (await Logins(options).LoginAsync("images.example.com"))!.Password);
        Assert.Equal(State.AcrPassword, (await Logins(options).LoginAsync("other.example.com"))!.Password);
        Assert.Equal(1, State.Calls["GetAuthorizationToken"]);
        Assert.Equal(1, State.Calls["GetAuthorizationToken(personal)"]);
    }

    [Fact]
    public async Task EnterpriseHost_WithoutInstanceId_SaysWhatToSet()
    {
        var e = await Assert.ThrowsAsync<CloudRequestException>(() => Logins(Acr(instance: null)).LoginAsync("myinst-registry.cn-hangzhou.cr.aliyuncs.com"));
        Assert.True(e.UserError);
        Assert.Equal("ACR.InstanceIdMissing", e.Code);
        Assert.Contains("SMC_ALIBABA__ACRINSTANCEID", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-the-secret", "cri-emulated0001", "ACR.SignatureDoesNotMatch")]
    [InlineData("test-secret", "cri-nosuchinstance", "ACR.INSTANCE_NOT_EXIST")]
    public async Task Refused_UserErrorWithTheCloudsCode(string secret, string instance, string code)
    {
        var e = await Assert.ThrowsAsync<CloudRequestException>(() => Logins(Acr(secret: secret, instance: instance)).LoginAsync("myinst-registry.cn-hangzhou.cr.aliyuncs.com"));
        Assert.True(e.UserError);
        Assert.Equal(code, e.Code);
        Assert.Contains("SMC_ALIBABA__ACCESSKEYID", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
    }
}
