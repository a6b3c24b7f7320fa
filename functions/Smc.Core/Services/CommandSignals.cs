using System.Collections.Concurrent;

namespace Smc.Core.Services;

/// <summary>
/// Wakes a heartbeat that is holding for a source's next command as soon as this process gives the source one, so an
/// idle agent starts a round (a manual start, a scheduled round, a cutover) at once instead of at its next heartbeat.
/// In-process only: a command given by another host is seen by the holding heartbeat's periodic re-read.
/// </summary>
public sealed class CommandSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);

    /// <summary>A task that completes when <see cref="Notify"/> is called for the source (or never).</summary>
    public Task NextAsync(string sourceId) =>
        _waiting.GetOrAdd(sourceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Notify(string sourceId)
    {
        if (_waiting.TryRemove(sourceId, out TaskCompletionSource? waiting))
        {
            waiting.TrySetResult();
        }
    }
}
