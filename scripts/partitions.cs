#:package Azure.Storage.Blobs
#:property PublishAot=false

// Measurement (issue 20; a command, not a test), used by scripts/load.sh with several hosts: which host holds each
// control-queue partition of a task hub, read from the Durable Task Framework's own lease blobs ({hub}-leases, one per
// partition, whose JSON names the owner by its worker id: host/pid in smc-control).
// Usage: dotnet run scripts/partitions.cs -- CONNECTION_STRING HUB
// Prints one JSON line per partition: {"partition": "...", "owner": "..."}.
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

string connection = args[0], hub = args[1];
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
