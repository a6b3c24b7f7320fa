using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Smc.Core.Options;
using Smc.Core.Orchestration;

namespace Smc.Core.Ports;

/// <summary><see cref="IMigrationEngine"/> over a Durable Task client (both hosts use it).</summary>
public sealed class DurableMigrationEngine(DurableTaskClient client, IOptions<ControlPlaneOptions> options) : IMigrationEngine
{
    public async Task StartAsync(string jobId, DateTimeOffset? notBefore = null, CancellationToken cancellationToken = default)
    {
        OrchestrationMetadata? existing = await client.GetInstanceAsync(jobId, cancellationToken);
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended })
        {
            // Start is idempotent: a retried start must not run the job twice.
            return;
        }

        if (existing is not null)
        {
            await client.PurgeInstanceAsync(jobId, cancellation: cancellationToken);
        }

        await client.ScheduleNewOrchestrationInstanceAsync(
            TaskNames.MigrateServerOrchestrator,
            new MigrationInput(jobId, options.Value.SourceRecheckSeconds) { NotBeforeUtc = notBefore?.UtcDateTime, Version = MigrationInput.CurrentVersion },
            new StartOrchestrationOptions(InstanceId: jobId),
            cancellationToken);
    }

    public Task RaiseEventAsync(string jobId, string eventName, object? payload = null, CancellationToken cancellationToken = default) =>
        client.RaiseEventAsync(jobId, eventName, payload, cancellationToken);

    public async Task TerminateAsync(string jobId, string reason, CancellationToken cancellationToken = default)
    {
        OrchestrationMetadata? existing = await client.GetInstanceAsync(jobId, cancellationToken);
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended })
        {
            await client.TerminateInstanceAsync(jobId, reason, cancellationToken);
        }
    }
}
