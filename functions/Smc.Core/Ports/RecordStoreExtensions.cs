using Smc.Core.Errors;

namespace Smc.Core.Ports;

public static class RecordStoreExtensions
{
    /// <summary>
    /// Reads, mutates and writes back a record with optimistic concurrency, re-reading on conflict after a random
    /// backoff that grows with each conflict (so many writers of one record — 50 agents registering with one
    /// activation code — take turns instead of colliding again and again).
    /// <paramref name="mutate"/> returns false to leave the record unchanged; it may throw to refuse.
    /// </summary>
    public static async Task<Stored<T>?> UpdateAsync<T>(
        this IRecordStore<T> store, string id, Func<T, bool> mutate, CancellationToken cancellationToken = default)
        where T : class
    {
        for (int attempt = 0; ; attempt++)
        {
            Stored<T>? current = await store.GetAsync(id, cancellationToken);
            if (current is null)
            {
                return null;
            }

            if (!mutate(current.Value))
            {
                return current;
            }

            try
            {
                return await store.ReplaceAsync(id, current.Value, current.ETag, cancellationToken);
            }
            catch (RecordConflictException) when (attempt < 20)
            {
                // Someone else changed it; read again and re-apply, after up to 5 ms × 2^attempt (capped at 250 ms).
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, (int)Math.Min(250, 5 * Math.Pow(2, Math.Min(attempt, 6))) + 1)), cancellationToken);
            }
            catch (RecordConflictException e)
            {
                throw new SmcException(409, ErrorCodes.ConcurrentUpdate, $"'{id}' kept changing while being updated; retry the request. ({e.Message})");
            }
        }
    }
}
