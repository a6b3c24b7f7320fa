using Smc.Core.Errors;

namespace Smc.Core.Ports;

public static class RecordStoreExtensions
{
    /// <summary>
    /// Reads, mutates and writes back a record with optimistic concurrency, re-reading on conflict.
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
                // Someone else changed it; read again and re-apply.
            }
            catch (RecordConflictException e)
            {
                throw new SmcException(409, ErrorCodes.ConcurrentUpdate, $"'{id}' kept changing while being updated; retry the request. ({e.Message})");
            }
        }
    }
}
