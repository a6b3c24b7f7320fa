using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Smc.Core.Ports;

namespace Smc.Storage.Azure;

/// <summary><see cref="IKeyIndex"/> on a table: partition = scope, row = key, an insert is the atomic claim.</summary>
internal sealed class TableKeyIndex(TableClient table) : IKeyIndex
{
    public async Task<string> ClaimAsync(string scope, string key, string value, CancellationToken cancellationToken = default)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await StorageErrors.Guard(() => table.AddEntityAsync(Entity(scope, key, value), cancellationToken));
                return value;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                string? held = await GetAsync(scope, key, cancellationToken);
                if (held is not null || attempt >= 5)
                {
                    return held ?? throw new InvalidOperationException($"Key '{scope}/{key}' flickers between claims.");
                }
            }
        }
    }

    public async Task<string?> GetAsync(string scope, string key, CancellationToken cancellationToken = default)
    {
        NullableResponse<TableEntity> r = await StorageErrors.Guard(() =>
            table.GetEntityIfExistsAsync<TableEntity>(scope, RowKey(key), cancellationToken: cancellationToken));
        return r.HasValue ? r.Value!.GetString("Value") : null;
    }

    public Task SetAsync(string scope, string key, string value, CancellationToken cancellationToken = default) =>
        StorageErrors.Guard(() => table.UpsertEntityAsync(Entity(scope, key, value), TableUpdateMode.Replace, cancellationToken));

    public async IAsyncEnumerable<KeyValuePair<string, string>> ListAsync(string scope, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (TableEntity e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {scope}"), cancellationToken: cancellationToken))
        {
            yield return new(e.RowKey, e.GetString("Value") ?? "");
        }
    }

    public async Task ReleaseAsync(string scope, string key, string? value = null, CancellationToken cancellationToken = default)
    {
        NullableResponse<TableEntity> r = await StorageErrors.Guard(() =>
            table.GetEntityIfExistsAsync<TableEntity>(scope, RowKey(key), cancellationToken: cancellationToken));
        if (!r.HasValue || (value is not null && r.Value!.GetString("Value") != value))
        {
            return;
        }

        try
        {
            await StorageErrors.Guard(() => table.DeleteEntityAsync(scope, RowKey(key), r.Value!.ETag, cancellationToken));
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Gone already, or claimed anew by someone else: either way not ours to delete.
        }
    }

    private static TableEntity Entity(string scope, string key, string value) =>
        new(scope, RowKey(key)) { ["Value"] = value };

    /// <summary>Row keys can't hold / \ # ? or control characters; such keys are stored by hash.</summary>
    private static string RowKey(string key) =>
        key.Length <= 200 && key.All(c => c > 0x1f && c != 0x7f && c is not ('/' or '\\' or '#' or '?'))
            ? key
            : "h_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
