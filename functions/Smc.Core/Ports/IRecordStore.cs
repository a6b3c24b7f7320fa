namespace Smc.Core.Ports;

/// <summary>
/// A store of one kind of record keyed by id, with optimistic concurrency (ETags).
/// Implementations: Azure Table storage (Azurite or a real account).
/// </summary>
public interface IRecordStore<T>
    where T : class
{
    Task<Stored<T>?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Inserts a new record; throws <see cref="RecordConflictException"/> when the id exists.</summary>
    Task<Stored<T>> InsertAsync(string id, T value, CancellationToken cancellationToken = default);

    /// <summary>Replaces a record if its ETag still matches; throws <see cref="RecordConflictException"/> otherwise.</summary>
    Task<Stored<T>> ReplaceAsync(string id, T value, string etag, CancellationToken cancellationToken = default);

    /// <summary>Deletes a record (any version when <paramref name="etag"/> is null). False when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, string? etag = null, CancellationToken cancellationToken = default);

    IAsyncEnumerable<Stored<T>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The records whose <see cref="IDueRecord.DueAt"/> is at or before <paramref name="until"/>, read by the store's own
    /// query (records without a due time are never read); none when <typeparamref name="T"/> is not an <see cref="IDueRecord"/>.
    /// </summary>
    IAsyncEnumerable<Stored<T>> ListDueAsync(DateTimeOffset until, CancellationToken cancellationToken = default);
}
