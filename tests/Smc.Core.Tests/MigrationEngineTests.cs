using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Smc.Core.Options;
using Smc.Core.Ports;

namespace Smc.Core.Tests;

/// <summary>
/// A start that finds the job's previous execution still active. The real engine can't be held in that moment on
/// purpose (an execution between its last activity and its end, or with a stop's termination still queued: it lasts a
/// queue poll), so the client here is scripted; every other path runs on the real engine in the integration tests.
/// </summary>
public sealed class MigrationEngineTests
{
    [Fact]
    public async Task Start_WhileThePreviousExecutionIsEnding_EndsItThenStartsANewOne()
    {
        var client = new ScriptedClient(OrchestrationRuntimeStatus.Running, endsWhenTerminated: true);
        await Engine(client).StartAsync("j-aaaaaaaaaaaaaaaa");
        Assert.Equal(["get", "terminate", "wait", "purge", "schedule"], client.Calls);
    }

    [Fact]
    public async Task Start_WhenThePreviousExecutionWontEnd_FailsWithoutStarting()
    {
        var client = new ScriptedClient(OrchestrationRuntimeStatus.Running, endsWhenTerminated: false);
        await Assert.ThrowsAsync<TimeoutException>(() => Engine(client, TimeSpan.FromMilliseconds(200)).StartAsync("j-aaaaaaaaaaaaaaaa"));
        Assert.DoesNotContain("schedule", client.Calls);
    }

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Completed)]
    [InlineData(OrchestrationRuntimeStatus.Terminated)]
    [InlineData(OrchestrationRuntimeStatus.Failed)]
    public async Task Start_AfterAnEndedExecution_PurgesItAndStarts(OrchestrationRuntimeStatus status)
    {
        var client = new ScriptedClient(status, endsWhenTerminated: true);
        await Engine(client).StartAsync("j-aaaaaaaaaaaaaaaa");
        Assert.Equal(["get", "purge", "schedule"], client.Calls);
    }

    [Fact]
    public async Task Start_OfANewJob_OnlySchedules()
    {
        var client = new ScriptedClient(null, endsWhenTerminated: true);
        await Engine(client).StartAsync("j-aaaaaaaaaaaaaaaa");
        Assert.Equal(["get", "schedule"], client.Calls);
    }

    private static DurableMigrationEngine Engine(DurableTaskClient client, TimeSpan? endingTimeout = null) =>
        new(client, Microsoft.Extensions.Options.Options.Create(new ControlPlaneOptions())) { EndingExecutionTimeout = endingTimeout ?? TimeSpan.FromSeconds(10) };

    private sealed class ScriptedClient(OrchestrationRuntimeStatus? status, bool endsWhenTerminated) : DurableTaskClient("scripted")
    {
        private bool _terminated;

        public List<string> Calls { get; } = [];

        private OrchestrationMetadata? Metadata(string id) =>
            status is OrchestrationRuntimeStatus s ? new OrchestrationMetadata("MigrateServerOrchestrator", id) { RuntimeStatus = _terminated ? OrchestrationRuntimeStatus.Terminated : s } : null;

        public override Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
        {
            Calls.Add("get");
            return Task.FromResult(Metadata(instanceId));
        }

        public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
        {
            Calls.Add("terminate");
            _terminated = endsWhenTerminated;
            return Task.CompletedTask;
        }

        public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
        {
            Calls.Add("wait");
            if (!_terminated)
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }

            return Metadata(instanceId)!;
        }

        public override Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
        {
            Calls.Add("purge");
            return Task.FromResult(new PurgeResult(1));
        }

        public override Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
        {
            Calls.Add("schedule");
            return Task.FromResult(options?.InstanceId ?? "new");
        }

        public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) => throw new NotSupportedException();

        public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) => throw new NotSupportedException();

        public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) => throw new NotSupportedException();

        public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) => throw new NotSupportedException();

        public override Microsoft.DurableTask.AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) => throw new NotSupportedException();

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
