using System.Net;
using System.Text.Json.Nodes;
using Smc.Core.Diagnostics;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// How an agent's heartbeats are paced, seen from the control plane. An idle agent's heartbeat is a long poll: with a
/// 20 s heartbeat rate, a heartbeat sent before a job starts answers with that job's command, not empty at once (the
/// agent would otherwise see the command only 20 s later). A one-shot agent watching its job looks at the job each
/// second but heartbeats at most every 5 s.
/// </summary>
public sealed class CommandLongPollTests : IAsyncLifetime
{
    private readonly Sandbox _box = new();
    private Azurite _azurite = null!;
    private ControlPlane _control = null!;

    private string AssemblyHold => _box.File("assembly.hold");

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        _control = await ControlPlane.StartAsync(_azurite.ConnectionString, settings: new Dictionary<string, string>
        {
            ["SMC_CONTROL__HEARTBEATRATESECONDS"] = "20",
            // Each request the host serves is a line of its output: what the agents sent is counted where it arrives.
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
            // Held inside assembly while this file exists (only the watching test makes it).
            [TestHolds.AssemblyVariable] = AssemblyHold,
        });
    }

    public Task DisposeAsync()
    {
        File.Delete(AssemblyHold);
        _control.Dispose();
        _azurite.Dispose();
        _box.Dispose();
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

    [Fact]
    public async Task OneShotAgent_WatchingItsJob_LooksEachSecond_HeartbeatsAtMostEveryFiveSeconds()
    {
        (_, string code) = await Flows.NewTokenAsync(_control.Operator());
        string disk = SampleDisks.Gpt(_box, "watch.img");
        File.WriteAllText(AssemblyHold, "");
        using ChildProcess agent = Agent.Start("migrate", "--server", _control.Url, "--code", code, "--disk", disk, "--config", _box.File("watch.json"), "--json", "--force");

        // The round is committed and the host holds inside its assembly: the agent has nothing to send, it watches.
        await Poll.UntilAsync(() => File.Exists(AssemblyHold + ".assembling") || agent.HasExited, TimeSpan.FromSeconds(120), () => agent.Output);
        Assert.True(File.Exists(AssemblyHold + ".assembling"), agent.Output);
        int mark = _control.Process.Lines.Count;
        List<string> Served() => _control.Process.Lines.Skip(mark).Where(l => l.Contains("Request starting", StringComparison.Ordinal)).ToList();
        int Looks(List<string> served) => served.Count(l => l.Contains(" GET ", StringComparison.Ordinal) && l.Contains("/api/v1/agent/jobs/", StringComparison.Ordinal));
        await Poll.UntilAsync(() => Looks(Served()) >= 12, TimeSpan.FromSeconds(60), () => string.Join('\n', Served()));

        List<string> served = Served();
        int heartbeats = served.Count(l => l.Contains("/api/v1/agent/heartbeat", StringComparison.Ordinal));
        // 12 looks a second apart span 11 s or more: at most three heartbeats 5 s apart (and one at the start of the span);
        // a heartbeat with every look would be 12.
        Assert.True(heartbeats is >= 1 and <= 4, $"{heartbeats} heartbeats beside {Looks(served)} looks at the job:\n{string.Join('\n', served)}");

        File.Delete(AssemblyHold);
        int exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, agent.Output);
        Assert.Contains("\"status\": \"Finished\"", agent.Output, StringComparison.Ordinal);
    }
}
