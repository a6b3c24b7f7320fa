using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using Smc.Core.Ports;
using Smc.Wire.Staging;

namespace Smc.Storage.Azure;

/// <summary>Staging as one blob container per job; agents get a container SAS with create and write only.</summary>
internal sealed class BlobStagingStore(BlobServiceClient service) : IStagingStore
{
    public Task EnsureAsync(string jobId, CancellationToken cancellationToken = default) =>
        StorageErrors.Guard(() => Container(jobId).CreateIfNotExistsAsync(cancellationToken: cancellationToken));

    public Task<(Uri ContainerUrl, DateTimeOffset ExpiresAt)> GetUploadUrlAsync(string jobId, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        BlobContainerClient container = Container(jobId);
        DateTimeOffset expires = DateTimeOffset.UtcNow + lifetime;
        var sas = new BlobSasBuilder(BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write, expires)
        {
            BlobContainerName = container.Name,
            Resource = "c",
            StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5),
        };
        return Task.FromResult((container.GenerateSasUri(sas), expires));
    }

    public async Task<byte[]?> ReadAsync(string jobId, string blobName, long maxBytes, CancellationToken cancellationToken = default)
    {
        await using Stream? s = await OpenReadAsync(jobId, blobName, maxBytes, cancellationToken);
        if (s is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        await s.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    public async Task<Stream?> OpenReadAsync(string jobId, string blobName, long maxBytes, CancellationToken cancellationToken = default)
    {
        try
        {
            BlobDownloadStreamingResult r = (await StorageErrors.Guard(() => Container(jobId).GetBlobClient(blobName).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(0, maxBytes + 1) }, cancellationToken))).Value;
            return new BoundedReadStream(r.Content, blobName, maxBytes);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            return new MemoryStream([], writable: false); // an empty blob: no range to read
        }
    }

    public async Task<long?> LengthAsync(string jobId, string blobName, CancellationToken cancellationToken = default)
    {
        try
        {
            return (await StorageErrors.Guard(() => Container(jobId).GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: cancellationToken))).Value.ContentLength;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task ReadRangeAsync(string jobId, string blobName, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        BlobDownloadStreamingResult r = (await StorageErrors.Guard(() => Container(jobId).GetBlobClient(blobName).DownloadStreamingAsync(
            new BlobDownloadOptions { Range = new HttpRange(offset, destination.Length) }, cancellationToken))).Value;
        await using Stream s = r.Content;
        int read = 0;
        while (read < destination.Length)
        {
            int n = await s.ReadAsync(destination[read..], cancellationToken);
            if (n == 0)
            {
                throw new InvalidDataException($"{blobName} ended before {offset + destination.Length} bytes.");
            }

            read += n;
        }
    }

    public async Task DeleteAsync(string jobId, CancellationToken cancellationToken = default) =>
        await StorageErrors.Guard(() => Container(jobId).DeleteIfExistsAsync(cancellationToken: cancellationToken));

    public async Task<(Uri ContainerUrl, DateTimeOffset ExpiresAt)> GetProbeUrlAsync(string sourceId, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        BlobContainerClient container = Probe(sourceId);
        await StorageErrors.Guard(() => container.CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        DateTimeOffset expires = DateTimeOffset.UtcNow + lifetime;
        var sas = new BlobSasBuilder(BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write, expires)
        {
            BlobContainerName = container.Name,
            Resource = "c",
            StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5),
        };
        return (container.GenerateSasUri(sas), expires);
    }

    public async Task<long> DeleteProbeAsync(string sourceId, CancellationToken cancellationToken = default)
    {
        BlobContainerClient container = Probe(sourceId);
        long bytes = 0;
        try
        {
            await foreach (BlobItem blob in container.GetBlobsAsync(cancellationToken: cancellationToken))
            {
                bytes += blob.Properties.ContentLength ?? 0;
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0;
        }

        await StorageErrors.Guard(() => container.DeleteIfExistsAsync(cancellationToken: cancellationToken));
        return bytes;
    }

    private BlobContainerClient Container(string jobId) => service.GetBlobContainerClient(StagingNames.Container(jobId));

    /// <summary>"probe-" and the source id (s- and 16 characters of a-z2-7): a valid container name no job's can be.</summary>
    private BlobContainerClient Probe(string sourceId) => service.GetBlobContainerClient("probe-" + sourceId);
}
