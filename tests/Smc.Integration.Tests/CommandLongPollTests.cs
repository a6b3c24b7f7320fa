using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// An idle agent's heartbeat is a long poll: with a 20 s heartbeat rate, a heartbeat sent before a job starts answers
/// with that job's command, not empty at once (the agent would otherwise see the command only 20 s later).
/// </summary>
public sealed class CommandLongPollTests : IAsyncLifetime
{
    private Azurite _azurite = null!;
    private ControlPlane _control = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        _control = await ControlPlane.StartAsync(_azurite.ConnectionString, settings: new Dictionary<string, string> { ["SMC_CONTROL__HEARTBEATRATESECONDS"] = "20" });
    }

    public Task DisposeAsync()
    {
        _control.Dispose();
        _azurite.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task IdleHeartbeat_HeldUntilACommandIsGiven_AnswersWithIt()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(_control, seed: 77);
        ApiClient op = _control.Operator();
        string jobId = (await op.PostAsync("/api/v1/replication-jobs", new { sourceId = agent.SourceId, name = "long-poll" })).Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();

        // Nothing pending: without waitSeconds the answer is immediate and empty.
        JsonNode plain = (await agent.Agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "protocol-test" })).Expect(HttpStatusCode.OK).Json;
        Assert.Empty(plain["commands"]!.AsArray());

        Task<Reply> held = agent.Agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "protocol-test", waitSeconds = 15 });
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode answer = (await held).Expect(HttpStatusCode.OK).Json;
        Assert.Contains(answer["commands"]!.AsArray(), c => c!["jobId"]!.GetValue<string>() == jobId && c["round"]!.GetValue<int>() == 0);
    }
}
