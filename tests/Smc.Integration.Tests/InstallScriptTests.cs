using System.Net;
using System.Security.Cryptography;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Agent installation from the control plane: upload, install.sh, download, checksum, register, systemd unit.</summary>
public sealed class InstallScriptTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task InstallScript_ValidCode_DownloadsChecksAndRegisters_WithTheCodeOnNoCommandLine()
    {
        ApiClient op = fx.Control.Operator();
        // The "package" is a launcher for the agent built in this tree (publishing a single file takes a minute;
        // scripts/demo.sh does that). It and a curl in front of the real one write down every command line they are
        // given: the activation code must be on none (/proc/PID/cmdline is readable by every user of the source).
        string argvLog = fx.Box.File("argv.log"), wrappers = fx.Box.File("wrappers");
        byte[] package = System.Text.Encoding.UTF8.GetBytes($"#!/bin/sh\necho \"smc-agent $*\" >> '{argvLog}'\nexec '{Repo.AgentExe}' \"$@\"\n");
        Directory.CreateDirectory(wrappers);
        string realCurl = Tool.Run("sh", ["-c", "command -v curl"]).Stdout.Trim();
        File.WriteAllText(Path.Combine(wrappers, "curl"), $"#!/bin/sh\necho \"curl $*\" >> '{argvLog}'\nexec '{realCurl}' \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(wrappers, "curl"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        await UploadPackageAsync(fx.Control, package);

        var (_, code) = await Flows.NewTokenAsync(op);
        Reply script = (await fx.Control.Anonymous().GetAsync($"/api/v1/agent/install.sh?code={Uri.EscapeDataString(code)}")).Expect(HttpStatusCode.OK);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(package)), script.Body, StringComparison.Ordinal);
        Assert.Contains($"SERVER='{fx.Control.Url}'", script.Body, StringComparison.Ordinal); // loopback: plain HTTP is fine

        string bin = fx.Box.File("bin"), config = fx.Box.File("installed.json");
        string disk = SampleDisks.Gpt(fx.Box, "install.img");
        var (exit, stdout, stderr) = Tool.Run("sh", ["-c", script.Body], new Dictionary<string, string>
        {
            ["SMC_AGENT_DIR"] = bin,
            ["SMC_AGENT_CONFIG"] = config,
            ["SMC_AGENT_DISKS"] = disk,
            ["SMC_NO_UNIT"] = "1",
            ["PATH"] = wrappers + ":" + Environment.GetEnvironmentVariable("PATH"),
        }, check: false);
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(package, File.ReadAllBytes(Path.Combine(bin, "smc-agent")));
        string[] commandLines = File.ReadAllLines(argvLog);
        Assert.Contains(commandLines, l => l.StartsWith("curl ", StringComparison.Ordinal));
        Assert.Contains(commandLines, l => l.StartsWith("smc-agent register ", StringComparison.Ordinal));
        Assert.All(commandLines, l => Assert.DoesNotContain(code, l, StringComparison.Ordinal));
        string sourceId = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!["sourceId"]!.GetValue<string>();
        (await op.GetAsync($"/api/v1/source-servers/{sourceId}")).Expect(HttpStatusCode.OK);

        // The unit the installer would start: runs the agent with this config.
        string units = fx.Box.File("units");
        var install = Agent.Run("install", "--config", config, "--unit-dir", units, "--no-start");
        Assert.Equal(0, install.ExitCode);
        string unit = File.ReadAllText(Path.Combine(units, "smc-agent.service"));
        Assert.Contains($"run --config \"{config}\"", unit, StringComparison.Ordinal);
        Assert.Equal(0, Agent.Run("uninstall", "--config", config, "--unit-dir", units, "--no-start").ExitCode);
        Assert.False(File.Exists(Path.Combine(units, "smc-agent.service")));
    }

    [Fact]
    public async Task InstallScript_ForAPlainHttpAddressOffLoopback_IsRefused_AndAnUntrustedPeersForwardedHeadersAreIgnored()
    {
        await UploadPackageAsync(fx.Control, "#!/bin/sh\n"u8.ToArray());
        var (_, code) = await Flows.NewTokenAsync(fx.Control.Operator());
        Reply refused = await InstallScriptAsync(fx.Control, code, "smc.example.com", ("X-Forwarded-Proto", "https"));
        refused.ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.InsecureServerUrl");
        Assert.Contains("http://smc.example.com", refused.Body, StringComparison.Ordinal);
        Assert.Contains("SMC_CONTROL__PUBLICURL", refused.Body, StringComparison.Ordinal);
    }

    /// <summary>GET install.sh with a given Host header and extra headers, as a proxy in front of the control plane would send it.</summary>
    internal static async Task<Reply> InstallScriptAsync(ControlPlane control, string code, string host, params (string Name, string Value)[] headers)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{control.Url}/api/v1/agent/install.sh?code={Uri.EscapeDataString(code)}");
        request.Headers.Host = host;
        foreach ((string name, string value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    internal static async Task UploadPackageAsync(ControlPlane control, byte[] package)
    {
        using var content = new ByteArrayContent(package);
        using var http = new HttpClient();
        content.Headers.ContentType = new("application/octet-stream");
        using var put = new HttpRequestMessage(HttpMethod.Put, control.Url + "/api/v1/agent-packages/linux-x64") { Content = content };
        put.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        HttpResponseMessage r = await http.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    [Fact]
    public async Task Download_DisabledOrMissingCode_Refused()
    {
        ApiClient op = fx.Control.Operator();
        var (id, code) = await Flows.NewTokenAsync(op);
        (await op.PostAsync($"/api/v1/access-tokens/{id}/disable")).Expect(HttpStatusCode.OK);
        (await fx.Control.Anonymous().GetAsync($"/api/v1/agent/install.sh?code={Uri.EscapeDataString(code)}")).ExpectProblem(HttpStatusCode.Forbidden, "InvalidActivationCode.Disabled");
        (await fx.Control.Anonymous().GetAsync("/api/v1/agent/download/linux-x64")).ExpectProblem(HttpStatusCode.Unauthorized, "InvalidActivationCode");
        (await fx.Control.Agent(code).GetAsync("/api/v1/agent/download/windows-arm")).ExpectProblem(HttpStatusCode.Forbidden, "InvalidActivationCode.Disabled");
    }
}
