using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Smc.Core.Options;
using Smc.Core.Orchestration;

namespace Smc.Core.Ports;

/// <summary><see cref="IMigrationEngine"/> over a Durable Task client (both hosts use it).</summary>
public sealed class DurableMigrationEngine(DurableTaskClient client, IOptions<ControlPlaneOptions> options) : IMigrationEngine
{
    /// <summary>How long a start waits for the job's previous execution to end (a termination takes a queue poll or two).</summary>
    internal TimeSpan EndingExecutionTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public async Task StartAsync(string jobId, DateTimeOffset? notBefore = null, CancellationToken cancellationToken = default)
    {
        OrchestrationMetadata? existing = await client.GetInstanceAsync(jobId, cancellationToken);
        if (IsActive(existing))
        {
            // The caller has just moved the job from Ready, Stopped or InError to Running (one caller wins that update),
            // so this execution is on its way out: it wrote its final state and is returning, or a stop's termination
            // is still queued. Skipping the start here left the job Running with nothing behind it. End it, wait until
            // it has ended, then start afresh; if it won't end, the caller puts the job back and answers 503.
            await client.TerminateInstanceAsync(jobId, "superseded by a new start", cancellationToken);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(EndingExecutionTimeout);
            try
            {
                existing = await client.WaitForInstanceCompletionAsync(jobId, cancellation: wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The previous execution of {jobId} did not end within {EndingExecutionTimeout.TotalSeconds} s.");
            }
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
        if (IsActive(await client.GetInstanceAsync(jobId, cancellationToken)))
        {
            await client.TerminateInstanceAsync(jobId, reason, cancellationToken);
        }
    }

    private static bool IsActive(OrchestrationMetadata? instance) =>
        instance is { RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended };
}
