using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.Extensions.Logging;

namespace Smc.Control;

/// <summary>
/// The orchestration service the sidecar's dispatcher sees: Durable Task's Azure Storage service, with the message
/// reconciliation Durable Task Core's own dispatcher does and the sidecar's leaves as a TODO
/// (<c>FilterAndSortMessages</c> in Microsoft.DurableTask.InProcessTestHost 0.2.x).
/// </summary>
/// <remarks>
/// Azure Storage delivers a control-queue message at least once: a host killed after it checkpointed an episode's
/// history but before it deleted the episode's messages leaves them to be delivered again to the next host. Core's
/// dispatcher drops a second ExecutionStarted ("Duplicate start event") and messages for an earlier execution; the
/// sidecar's adds them to the history, and the instance then fails every episode with "Multiple ExecutionStartedEvent
/// found, potential corruption in state storage" — a job stuck forever after a crash. Dropping a message here only
/// removes it from the work item; the session still deletes it from the queue when the episode completes.
/// </remarks>
internal sealed class ReconcilingOrchestrationService(IOrchestrationService inner, ILogger logger) : IOrchestrationService
{
    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

    public async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        TaskOrchestrationWorkItem workItem = await inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
        if (workItem?.NewMessages is { Count: > 0 } messages && workItem.OrchestrationRuntimeState is { } state)
        {
            Reconcile(workItem.InstanceId, state, messages);
        }

        return workItem!;
    }

    /// <summary>Drops what Core's <c>ReconcileMessagesWithState</c> drops: a second start, and events of another execution.</summary>
    internal void Reconcile(string instanceId, OrchestrationRuntimeState state, IList<TaskMessage> messages)
    {
        bool started = state.ExecutionStartedEvent is not null;
        string? executionId = state.ExecutionStartedEvent is not null
            ? state.OrchestrationInstance?.ExecutionId
            : messages.FirstOrDefault(m => m.Event is ExecutionStartedEvent)?.OrchestrationInstance?.ExecutionId;
        for (int i = 0; i < messages.Count; i++)
        {
            TaskMessage message = messages[i];
            string? reason = null;
            if (message.Event is ExecutionStartedEvent)
            {
                reason = started ? "a duplicate start (delivered again after a host stopped mid-episode)" : null;
                started = true;
            }
            else if (!string.IsNullOrEmpty(message.OrchestrationInstance?.ExecutionId) && executionId is not null &&
                     !string.Equals(message.OrchestrationInstance.ExecutionId, executionId, StringComparison.Ordinal))
            {
                reason = $"an event of execution {message.OrchestrationInstance.ExecutionId}, not the current {executionId}";
            }

            if (reason is not null)
            {
                logger.MessageDropped(instanceId, message.Event.EventType.ToString(), reason);
                messages.RemoveAt(i--);
            }
        }
    }

    public Task StartAsync() => inner.StartAsync();

    public Task StopAsync() => inner.StopAsync();

    public Task StopAsync(bool isForced) => inner.StopAsync(isForced);

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState) =>
        inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);

    public Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) =>
        inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);

    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) => inner.AbandonTaskActivityWorkItemAsync(workItem);
}
