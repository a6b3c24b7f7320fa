using System.Net;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// The address install.sh gives agents, behind a proxy that terminates TLS: the proxy's X-Forwarded-Proto/-Host when
/// it is a configured proxy (SMC_CONTROL__TRUSTEDPROXIES), the configured SMC_CONTROL__PUBLICURL over anything a
/// request says — and never a plain http:// address off loopback.
/// </summary>
public sealed class ServerUrlTests : IAsyncLifetime
{
    private Azurite _azurite = null!;
    private ControlPlane _proxied = null!;
    private ControlPlane _public = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        _proxied = await ControlPlane.StartAsync(_azurite.ConnectionString, settings: new Dictionary<string, string> { ["SMC_CONTROL__TRUSTEDPROXIES"] = "10.9.9.9, 127.0.0.1" });
        _public = await ControlPlane.StartAsync(_azurite.ConnectionString, settings: new Dictionary<string, string> { ["SMC_CONTROL__PUBLICURL"] = "https://smc.example.com:8443" });
    }

    public Task DisposeAsync()
    {
        _proxied.Dispose();
        _public.Dispose();
        _azurite.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ATrustedProxysForwardedHttps_IsWhatAgentsAreGiven_WithoutItPlainHttpOffLoopbackIsRefused()
    {
        await InstallScriptTests.UploadPackageAsync(_proxied, "#!/bin/sh\n"u8.ToArray());
        var (_, code) = await Flows.NewTokenAsync(_proxied.Operator());

        Reply forwarded = (await InstallScriptTests.InstallScriptAsync(_proxied, code, "10.0.0.5:7071", ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "smc.example.com"))).Expect(HttpStatusCode.OK);
        Assert.Contains("SERVER='https://smc.example.com'", forwarded.Body, StringComparison.Ordinal);

        // The nearest proxy's value counts (the last of a list); a value that is no scheme is ignored.
        (await InstallScriptTests.InstallScriptAsync(_proxied, code, "smc.example.com", ("X-Forwarded-Proto", "https, http"))).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.InsecureServerUrl");
        (await InstallScriptTests.InstallScriptAsync(_proxied, code, "smc.example.com", ("X-Forwarded-Proto", "gopher"))).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.InsecureServerUrl");
        (await InstallScriptTests.InstallScriptAsync(_proxied, code, "smc.example.com")).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.InsecureServerUrl");
    }

    [Fact]
    public async Task ThePublicUrl_IsWhatAgentsAreGiven_WhateverTheRequestSays()
    {
        await InstallScriptTests.UploadPackageAsync(_public, "#!/bin/sh\n"u8.ToArray());
        var (_, code) = await Flows.NewTokenAsync(_public.Operator());
        foreach (string host in new[] { "127.0.0.1", "evil.example" })
        {
            Reply script = (await InstallScriptTests.InstallScriptAsync(_public, code, host, ("X-Forwarded-Host", "evil.example"))).Expect(HttpStatusCode.OK);
            Assert.Contains("SERVER='https://smc.example.com:8443'", script.Body, StringComparison.Ordinal);
        }
    }
}
