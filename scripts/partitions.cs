#:package Azure.Storage.Blobs
#:package Azure.Data.Tables
#:property PublishAot=false

// Measurement (issue 20; a command, not a test), used by scripts/load.sh with several hosts: which host holds each
// control-queue partition of a task hub, read from the Durable Task Framework's own records: its partition table
// ({hub}Partitions, a row per partition whose CurrentOwner is the worker id: host/pid in smc-control) or, with the
// blob-lease partition manager, its lease blobs ({hub}-leases, whose JSON names the Owner).
// Usage: dotnet run scripts/partitions.cs -- CONNECTION_STRING HUB
// Prints one JSON line per partition: {"partition": "...", "owner": "..."}.
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

string connection = args[0], hub = args[1];
var table = new TableClient(connection, hub + "Partitions");
try
{
    await foreach (TableEntity row in table.QueryAsync<TableEntity>())
    {
        Console.WriteLine(JsonSerializer.Serialize(new { partition = row.RowKey, owner = row.GetString("CurrentOwner") }));
    }

    return;
}
catch (Azure.RequestFailedException e) when (e.Status == 404)
{
    // no partition table: the blob-lease partition manager
}

BlobContainerClient leases = new BlobServiceClient(connection).GetBlobContainerClient($"{hub.ToLowerInvariant()}-leases");
await foreach (BlobItem blob in leases.GetBlobsAsync())
{
    if (!blob.Name.Contains("-control-", StringComparison.Ordinal))
    {
        continue;
    }

    using JsonDocument lease = JsonDocument.Parse((await leases.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content);
    string? owner = lease.RootElement.TryGetProperty("Owner", out JsonElement o) ? o.GetString() : null;
    Console.WriteLine(JsonSerializer.Serialize(new { partition = blob.Name[(blob.Name.LastIndexOf('/') + 1)..], owner }));
}
