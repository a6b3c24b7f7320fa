using System.Net;
using System.Security.Cryptography;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Agent installation from the control plane: upload, install.sh, download, checksum, register, systemd unit.</summary>
public sealed class InstallScriptTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task InstallScript_ValidCode_DownloadsChecksAndRegisters()
    {
        ApiClient op = fx.Control.Operator();
        // The "package" is a launcher for the agent built in this tree (publishing a single file takes a minute; scripts/demo.sh does that).
        byte[] package = System.Text.Encoding.UTF8.GetBytes($"#!/bin/sh\nexec '{Repo.AgentExe}' \"$@\"\n");
        using (var content = new ByteArrayContent(package))
        using (var http = new HttpClient())
        {
            content.Headers.ContentType = new("application/octet-stream");
            using var put = new HttpRequestMessage(HttpMethod.Put, fx.Control.Url + "/api/v1/agent-packages/linux-x64") { Content = content };
            put.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
            HttpResponseMessage r = await http.SendAsync(put);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var (_, code) = await Flows.NewTokenAsync(op);
        Reply script = (await fx.Control.Anonymous().GetAsync($"/api/v1/agent/install.sh?code={Uri.EscapeDataString(code)}")).Expect(HttpStatusCode.OK);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(package)), script.Body, StringComparison.Ordinal);

        string bin = fx.Box.File("bin"), config = fx.Box.File("installed.json");
        string disk = SampleDisks.Gpt(fx.Box, "install.img");
        var (exit, stdout, stderr) = Tool.Run("sh", ["-c", script.Body], new Dictionary<string, string>
        {
            ["SMC_AGENT_DIR"] = bin,
            ["SMC_AGENT_CONFIG"] = config,
            ["SMC_AGENT_DISKS"] = disk,
            ["SMC_NO_UNIT"] = "1",
        }, check: false);
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(package, File.ReadAllBytes(Path.Combine(bin, "smc-agent")));
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
