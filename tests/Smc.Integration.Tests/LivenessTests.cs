using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Heartbeats: a silent source becomes Unavailable within 3 × heartbeatRate and Available when it returns.</summary>
[Collection(Serial.Name)]
public sealed class LivenessTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    [Fact]
    public async Task Source_AgentStopsHeartbeating_UnavailableWithin3xRateThenAvailableAgain()
    {
        ApiClient op = fx.Control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, "live.img"));

        using (ChildProcess agent = Agent.Start("run", "--config", config))
        {
            await agent.WaitForLineAsync("heartbeat ok; source is Available", TimeSpan.FromSeconds(30));
            agent.Kill();
        }

        JsonNode unavailable = await op.WaitForAsync($"/api/v1/source-servers/{sourceId}", s => s["state"]!.GetValue<string>() == "Unavailable", TimeSpan.FromSeconds(30));
        DateTimeOffset last = unavailable["lastHeartbeat"]!.GetValue<DateTimeOffset>();
        // When the control plane marked it: the storage's own time of that write (the record's last; nothing writes a
        // source whose agent is gone), not when this test's poll happened to see it.
        Azure.Data.Tables.TableEntity row = (await new Azure.Data.Tables.TableClient(fx.Storage.ConnectionString, "smcSourceServers")
            .GetEntityAsync<Azure.Data.Tables.TableEntity>("r", sourceId)).Value;
        Assert.Contains("\"Unavailable\"", row.GetString("Data0") ?? "", StringComparison.Ordinal);
        DateTimeOffset marked = row.Timestamp!.Value;
        Assert.True(marked - last <= TimeSpan.FromSeconds(3 * ControlPlane.HeartbeatRateSeconds), $"Unavailable {(marked - last).TotalSeconds:0.0} s after the last heartbeat");
        Assert.Equal("SourceUnavailable.HeartbeatLost", unavailable["statusInfo"]!["errorCode"]!.GetValue<string>());

        using ChildProcess again = Agent.Start("run", "--config", config);
        JsonNode back = await op.WaitForAsync($"/api/v1/source-servers/{sourceId}", s => s["state"]!.GetValue<string>() == "Available", TimeSpan.FromSeconds(30));
        Assert.Null(back["statusInfo"]!["errorCode"]);
    }

    [Fact]
    public async Task Heartbeat_BadBody_400AndSourceUnchanged()
    {
        var (_, sourceId, config) = await fx.SharedAgentAsync();
        ApiClient agent = fx.Control.Agent(Flows.Credential(config));
        (await agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.AgentInfo");
        (await agent.SendAsync(HttpMethod.Post, "/api/v1/agent/heartbeat", null, "{\"agentVersion\":\"1\",\"disks\":7}")).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.MalformedJson");
        JsonNode source = (await fx.Control.Operator().GetAsync($"/api/v1/source-servers/{sourceId}")).Json;
        Assert.NotEmpty(source["disks"]!.AsArray());
    }
}
