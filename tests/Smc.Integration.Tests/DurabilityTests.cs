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
/// Crash or stop the control plane mid-job; run several hosts on one storage account. These run beside other classes
/// (their deadlines are generous); the one whose assertion is a timer's due time is <see cref="ScheduledRoundDurabilityTests"/>.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly Sandbox _box = new();

    [Fact]
    public async Task Host_KilledWhileJobWaitsForSource_NewHostResumesIt()
    {
        using Azurite azurite = await Azurite.StartAsync();
        var first = await ControlPlane.StartAsync(azurite.ConnectionString);
        string url = first.Url;
        ApiClient op = first.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgent(first, _box, code, SampleDisks.Gpt(_box));

        // The agent never ran: the source goes Unavailable and the started job waits for it.
        await op.WaitForAsync($"/api/v1/source-servers/{sourceId}", s => s["state"]!.GetValue<string>() == "Unavailable", TimeSpan.FromSeconds(30));
        string jobId = await Flows.NewJobAsync(op, sourceId);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["statusInfo"]?["errorCode"]?.GetValue<string>() == "SourceUnavailable", TimeSpan.FromSeconds(30));

        first.Dispose(); // SIGKILL while the orchestration waits
        using ControlPlane second = await ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url);
        Assert.Equal(url, second.Url);

        using ChildProcess agent = Agent.Start("run", "--config", config);
        JsonNode ended = await second.Operator().WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(150));
        Assert.True(ended["status"]!.GetValue<string>() == "Finished", ended.ToJsonString());
        Assert.Contains(second.Process.Lines, l => l.Contains($"FinishRunActivity for {jobId} on host", StringComparison.Ordinal) && l.Contains($"/{second.Process.Id}", StringComparison.Ordinal));
    }

    /// <summary>
    /// A host killed after checkpointing an episode but before deleting its messages leaves them for the next host
    /// (at-least-once delivery). A redelivered ExecutionStarted must be dropped, as Durable Task Core's dispatcher does,
    /// not added to the history (where every later episode fails with "Multiple ExecutionStartedEvent found").
    /// The test sends that duplicate itself, so the crash window needn't be hit by luck.
    /// </summary>
    [Fact]
    public async Task RedeliveredStartMessage_IsDropped_AndTheJobGoesOn()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane host = await ControlPlane.StartAsync(azurite.ConnectionString);
        ApiClient op = host.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgent(host, _box, code, SampleDisks.Gpt(_box));
        await op.WaitForAsync($"/api/v1/source-servers/{sourceId}", s => s["state"]!.GetValue<string>() == "Unavailable", TimeSpan.FromSeconds(30));
        string jobId = await Flows.NewJobAsync(op, sourceId);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["statusInfo"]?["errorCode"]?.GetValue<string>() == "SourceUnavailable", TimeSpan.FromSeconds(30));

        var hub = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "smchub",
            StorageAccountClientProvider = new StorageAccountClientProvider(azurite.ConnectionString),
        });
        OrchestrationState current = (await hub.GetOrchestrationStateAsync(jobId, allExecutions: false)).Single();
        var instance = new OrchestrationInstance { InstanceId = jobId, ExecutionId = current.OrchestrationInstance.ExecutionId };
        await hub.SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new ExecutionStartedEvent(-1, current.Input) { Name = current.Name, OrchestrationInstance = instance },
        });
        await host.Process.WaitForLineAsync($"Orchestration {jobId}: dropping ExecutionStarted message", TimeSpan.FromSeconds(30));

        using ChildProcess agent = Agent.Start("run", "--config", config);
        JsonNode ended = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(ended["status"]!.GetValue<string>() == "Finished", ended.ToJsonString());
        Assert.DoesNotContain(host.Process.Lines, l => l.Contains("Multiple ExecutionStartedEvent", StringComparison.Ordinal));
    }

    /// <summary>
    /// The host ends inside a slice's assembly: killed (a crash), or stopped (SIGTERM, as a service manager or the Functions
    /// scale controller does) — then the host's stopping token must reach the step, which gives up at once instead of
    /// running on while the host tears down. Either way a new host finishes the round with an identical image.
    /// </summary>
    [Theory]
    [InlineData("KILL")]
    [InlineData("TERM")]
    public async Task Host_EndedDuringAssembly_NewHostFinishesWithIdenticalImage(string signal)
    {
        using Azurite azurite = await Azurite.StartAsync();
        string hold = _box.File("assembly.hold");
        File.WriteAllText(hold, "");
        var first = await ControlPlane.StartAsync(azurite.ConnectionString, settings: new Dictionary<string, string> { [TestHolds.AssemblyVariable] = hold });
        string url = first.Url;
        ApiClient op = first.Operator();
        string disk = SampleDisks.GptLarge(_box, "assembly.img", randomMiB: 200);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(first, _box, disk);
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        // The host holds inside a slice's assembly (a pack kept, the rest not yet): the kill lands there.
        var held = Stopwatch.StartNew();
        while (!File.Exists(hold + ".assembling") && !first.Process.HasExited && held.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(hold + ".assembling"), string.Join('\n', first.Process.Lines));
        Assert.Equal(first.Process.Id, int.Parse(File.ReadAllText(hold + ".assembling"), CultureInfo.InvariantCulture));
        Assert.Equal("Processing", (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json["businessStatus"]!.GetValue<string>());
        if (signal == "TERM")
        {
            // The hold lasts while its file exists (up to a minute); the stopping token ends it, and the host exits.
            first.Process.Terminate();
            await first.Process.WaitForExitAsync(TimeSpan.FromSeconds(45));
            Assert.True(File.Exists(hold + ".cancelled"), "the host's stopping token did not reach the assembly step:\n" + first.Process.Output);
            Assert.True(File.Exists(hold), "the hold was released, not cancelled");
        }

        first.Dispose(); // SIGKILL inside assembly (or after the stop)
        using ControlPlane second = await ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url);

        JsonNode job = await second.Operator().WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        Assert.Contains(second.Process.Lines, l => l.Contains("Activity ", StringComparison.Ordinal) && l.Contains(jobId, StringComparison.Ordinal));
        string dest = _box.File("assembly.dest");
        await DiskFiles.DownloadAsync(second, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", dest);
        DiskFiles.AssertPartitionsIdentical(disk, dest);
        Assert.Equal(1, (await second.Operator().GetAsync($"/api/v1/images?jobId={jobId}")).Json["totalCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Agent_ControlPlaneDown_RetriesWithBackoffAndReconnects()
    {
        using Azurite azurite = await Azurite.StartAsync();
        var first = await ControlPlane.StartAsync(azurite.ConnectionString);
        string url = first.Url;
        var (_, code) = await Flows.NewTokenAsync(first.Operator());
        var (_, config) = Flows.RegisterAgent(first, _box, code, SampleDisks.Gpt(_box, "reconnect.img"));
        using ChildProcess agent = Agent.Start("run", "--config", config);
        await agent.WaitForLineAsync("heartbeat ok", TimeSpan.FromSeconds(30));

        first.Dispose();
        await agent.WaitForLineAsync("retrying in 2 s", TimeSpan.FromSeconds(30));
        using ControlPlane second = await ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url);
        await agent.WaitForLineAsync("control plane reachable again", TimeSpan.FromSeconds(90));
        Assert.False(agent.HasExited);
    }

    [Fact]
    public async Task TwoHosts_OneStorage_BothProcessWork()
    {
        using Azurite azurite = await Azurite.StartAsync();
        // Orchestrations are spread over control queues (partitions); two hosts share them only when there are several.
        var partitions = new Dictionary<string, string> { ["SMC_DURABLE__PARTITIONCOUNT"] = "4" };
        using ControlPlane a = await ControlPlane.StartAsync(azurite.ConnectionString, settings: partitions);
        using ControlPlane b = await ControlPlane.StartAsync(azurite.ConnectionString, settings: partitions);
        ApiClient op = a.Operator();
        var (_, code) = await Flows.NewTokenAsync(op, count: 100);
        string image = SampleDisks.Gpt(_box, "fleet.img");

        DateTime deadline = DateTime.UtcNow.AddMinutes(3);
        int jobs = 0;
        while (!(DidWork(a) && DidWork(b)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"After {jobs} jobs, host A worked: {DidWork(a)}, host B worked: {DidWork(b)}");
            var wave = new List<(string JobId, ApiClient Agent)>();
            for (int i = 0; i < 4; i++)
            {
                var (sourceId, config) = Flows.RegisterAgent(i % 2 == 0 ? a : b, _box, code, image);
                ApiClient agent = a.Agent(Flows.Credential(config));
                (await agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "t" })).Expect(HttpStatusCode.OK);
                string jobId = await Flows.NewJobAsync(op, sourceId);
                (await (i % 2 == 0 ? a : b).Operator().PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
                wave.Add((jobId, agent));
            }

            foreach ((string jobId, ApiClient agent) in wave)
            {
                // No agent process runs: the test heartbeats for it at the agent's rate, so a busy machine that takes the
                // source later than a few missed beats (seen: the source went Unavailable and the job waited for it) still
                // finds it Available. Each job stops at Syncing, after its source was taken and its round issued.
                var wait = Stopwatch.StartNew();
                while ((await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json["businessStatus"]?.GetValue<string>() != "Syncing")
                {
                    Assert.True(wait.Elapsed < TimeSpan.FromSeconds(90), $"{jobId} did not reach Syncing in 90 s");
                    (await agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "t" })).Expect(HttpStatusCode.OK);
                    await Task.Delay(TimeSpan.FromSeconds(ControlPlane.HeartbeatRateSeconds));
                }

                (await op.DeleteAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.NoContent);
            }

            jobs += wave.Count;
        }

        static bool DidWork(ControlPlane host) =>
            host.Process.Lines.Any(l => l.Contains("Activity ", StringComparison.Ordinal) && l.Contains($"/{host.Process.Id}", StringComparison.Ordinal));
    }

    public void Dispose() => _box.Dispose();
}
