using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.History;
using Smc.Core.Diagnostics;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// A host killed between scheduled rounds: the next round starts on time on a new host. Its assertion is a window against
/// the machine's clock, so it runs alone (the Serial collection).
/// </summary>
[Collection(Serial.Name)]
public sealed class ScheduledRoundDurabilityTests : IDisposable
{
    private readonly Sandbox _box = new();

    [Fact]
    public async Task Host_KilledBetweenScheduledRounds_NewHostRunsTheNextRoundOnTime()
    {
        using Azurite azurite = await Azurite.StartAsync();
        var first = await ControlPlane.StartAsync(azurite.ConnectionString);
        string url = first.Url;
        ApiClient op = first.Operator();
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(first, _box, SampleDisks.Gpt(_box, "sched.img"), new { runOnce = false, syncInterval = "PT20S", maxNumberOfImageToKeep = 2 });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode waiting = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.Equal("Waiting", waiting["status"]!.GetValue<string>());
        DateTimeOffset roundZeroEnded = waiting["replicationJobRuns"]![0]!["endTime"]!.GetValue<DateTimeOffset>();

        first.Dispose(); // SIGKILL while the orchestration's timer for round 1 runs
        using ControlPlane second = await ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url);
        DateTimeOffset restarted = DateTimeOffset.UtcNow;
        JsonNode job = await second.Operator().WaitForAsync($"/api/v1/replication-jobs/{jobId}",
            j => j["status"]!.GetValue<string>() == "InError" || j["replicationJobRuns"]!.AsArray().Any(r => r!["round"]!.GetValue<int>() == 1 && r["endTime"] is not null),
            TimeSpan.FromSeconds(180));
        JsonNode run = job["replicationJobRuns"]!.AsArray().Single(r => r!["round"]!.GetValue<int>() == 1)!;
        Assert.Equal("Schedule", run["type"]!.GetValue<string>());

        // On time: the durable timer kept its due time (20 s after round 0). After a crash the new host first waits out
        // the dead host's partition leases (6 s here) and the visibility of a message it had taken (10 s), so the round
        // may start up to that much late — never early.
        DateTimeOffset due = roundZeroEnded.AddSeconds(20);
        DateTimeOffset expected = due > restarted ? due : restarted;
        Assert.InRange((run["startTime"]!.GetValue<DateTimeOffset>() - expected).TotalSeconds, -1.5, 18);
        Assert.Contains(second.Process.Lines, l => l.Contains($"PrepareRoundActivity for {jobId} on host", StringComparison.Ordinal));
    }

    public void Dispose() => _box.Dispose();
}
