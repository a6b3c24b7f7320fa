using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Smc.Core.Ports;

namespace Smc.Storage.Azure;

/// <summary>
/// <see cref="IRecordStore{T}"/> on Azure Table storage: one table per record kind, the record as JSON
/// split over <c>Data0..DataN</c> string properties (a property holds at most 32 K characters), the
/// table's ETag for optimistic concurrency; an <see cref="IDueRecord"/>'s due time also as a <c>DueAt</c> column, for
/// <see cref="ListDueAsync"/>.
/// </summary>
internal sealed class TableRecordStore<T>(TableClient table) : IRecordStore<T>
    where T : class
{
    private const string Partition = "r";
    private const int SliceChars = 30_000;

    /// <summary>The column of <see cref="IDueRecord.DueAt"/>, beside the record's JSON (absent when it has none).</summary>
    private const string DueAtName = "DueAt";

    public async Task<Stored<T>?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        NullableResponse<TableEntity> response = await StorageErrors.Guard(() =>
            table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken));
        return response.HasValue ? ToStored(response.Value!) : null;
    }

    public async Task<Stored<T>> InsertAsync(string id, T value, CancellationToken cancellationToken = default)
    {
        try
        {
            Response r = await StorageErrors.Guard(() => table.AddEntityAsync(ToEntity(id, value), cancellationToken));
            return new Stored<T>(id, value, r.Headers.ETag?.ToString() ?? "");
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            throw new RecordConflictException($"'{id}' exists already.", e);
        }
    }

    public async Task<Stored<T>> ReplaceAsync(string id, T value, string etag, CancellationToken cancellationToken = default)
    {
        try
        {
            Response r = await StorageErrors.Guard(() =>
                table.UpdateEntityAsync(ToEntity(id, value), new ETag(etag), TableUpdateMode.Replace, cancellationToken));
            return new Stored<T>(id, value, r.Headers.ETag?.ToString() ?? "");
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            throw new RecordConflictException($"'{id}' changed since it was read.", e);
        }
    }

    public async Task<bool> DeleteAsync(string id, string? etag = null, CancellationToken cancellationToken = default)
    {
        try
        {
            Response r = await StorageErrors.Guard(() =>
                table.DeleteEntityAsync(Partition, id, etag is null ? ETag.All : new ETag(etag), cancellationToken));
            return r.Status != 404;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            throw new RecordConflictException($"'{id}' changed since it was read.", e);
        }
    }

    public async IAsyncEnumerable<Stored<T>> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (TableEntity e in table.QueryAsync<TableEntity>(x => x.PartitionKey == Partition, cancellationToken: cancellationToken))
        {
            yield return ToStored(e);
        }
    }

    public async IAsyncEnumerable<Stored<T>> ListDueAsync(DateTimeOffset until, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!typeof(IDueRecord).IsAssignableFrom(typeof(T)))
        {
            yield break;
        }

        // An entity without DueAt doesn't satisfy the comparison (Table storage and Azurite alike), so it isn't read.
        // (The column name is in the format text: CreateQueryFilter would quote an interpolated one as a string.)
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and DueAt le {until.ToUniversalTime()}");
        await foreach (TableEntity e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return ToStored(e);
        }
    }

    /// <summary>
    /// Writes the <c>DueAt</c> column of records stored without one (by a version before their kind had a due time), so
    /// <see cref="ListDueAsync"/> finds them: one pass over the table, at start (<see cref="AzureStorageRegistration.EnsureCreatedAsync"/>).
    /// A record changed meanwhile is left as its writer left it: that write carried the column. Returns how many were written.
    /// </summary>
    internal async Task<int> AddMissingDueColumnsAsync(CancellationToken cancellationToken)
    {
        if (!typeof(IDueRecord).IsAssignableFrom(typeof(T)))
        {
            return 0;
        }

        // Every host start makes this pass: it lists keys and the column only, and reads in full just the records without it.
        var missing = new List<string>();
        await foreach (TableEntity e in table.QueryAsync<TableEntity>(x => x.PartitionKey == Partition, select: ["RowKey", DueAtName], cancellationToken: cancellationToken))
        {
            if (!e.ContainsKey(DueAtName))
            {
                missing.Add(e.RowKey);
            }
        }

        int written = 0;
        foreach (string id in missing)
        {
            Stored<T>? stored;
            try
            {
                stored = await GetAsync(id, cancellationToken);
            }
            catch (Exception x) when (x is JsonException or InvalidDataException or NotSupportedException)
            {
                continue; // unreadable: its own reads say so; a host start doesn't stop on it
            }

            if (stored?.Value is not IDueRecord { DueAt: not null })
            {
                continue;
            }

            try
            {
                await ReplaceAsync(stored.Id, stored.Value, stored.ETag, cancellationToken);
                written++;
            }
            catch (RecordConflictException)
            {
                // Rewritten since the read, with the column.
            }
        }

        return written;
    }

    private static TableEntity ToEntity(string id, T value)
    {
        string json = JsonSerializer.Serialize(value, StoreJson.Options);
        var entity = new TableEntity(Partition, id);
        int slices = 0;
        for (int start = 0; start < json.Length; start += SliceChars, slices++)
        {
            entity["Data" + slices] = json.Substring(start, Math.Min(SliceChars, json.Length - start));
        }

        entity["Slices"] = slices;
        if (value is IDueRecord { DueAt: { } due })
        {
            entity[DueAtName] = due.ToUniversalTime();
        }

        return entity;
    }

    private static Stored<T> ToStored(TableEntity e)
    {
        int slices = e.GetInt32("Slices") ?? 0;
        string json = string.Concat(Enumerable.Range(0, slices).Select(i => e.GetString("Data" + i)));
        T value = JsonSerializer.Deserialize<T>(json, StoreJson.Options)
            ?? throw new InvalidDataException($"Record '{e.RowKey}' in table is empty.");
        return new Stored<T>(e.RowKey, value, e.ETag.ToString());
    }
}
