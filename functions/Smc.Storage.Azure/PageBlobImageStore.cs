using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Smc.Core.Ports;

namespace Smc.Storage.Azure;

/// <summary>Destination disks as sparse page blobs <c>{imageId}/disk{index}.raw</c>: unwritten pages cost nothing and read as zero.</summary>
internal sealed class PageBlobImageStore(BlobContainerClient container) : IImageStore
{
    public async Task CreateDiskAsync(string imageId, int index, long sizeBytes, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => container.CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        await StorageErrors.Guard(() => Blob(imageId, index).CreateAsync(sizeBytes, cancellationToken: cancellationToken));
    }

    public async Task WriteAsync(string imageId, int index, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        await StorageErrors.Guard(() => Blob(imageId, index).UploadPagesAsync(stream, offset, cancellationToken: cancellationToken));
    }

    public async Task<Stream?> OpenReadAsync(string imageId, int index, CancellationToken cancellationToken = default)
    {
        try
        {
            return await StorageErrors.Guard(() => Blob(imageId, index).OpenReadAsync(0, 4 << 20, cancellationToken: cancellationToken));
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string imageId, CancellationToken cancellationToken = default)
    {
        try
        {
            await foreach (var blob in container.GetBlobsAsync(global::Azure.Storage.Blobs.Models.BlobTraits.None, global::Azure.Storage.Blobs.Models.BlobStates.None, imageId + "/", cancellationToken))
            {
                await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    private PageBlobClient Blob(string imageId, int index) => container.GetPageBlobClient($"{imageId}/disk{index}.raw");
}
