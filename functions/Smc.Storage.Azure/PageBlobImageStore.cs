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

    /// <remarks>
    /// Copies the source's written page ranges through this process rather than with Copy Blob: on Azurite a page blob
    /// made by Copy Blob shares its page list with the source, so later writes to the copy changed the source image
    /// too (seen in IncrementalTests). Only written ranges move, 4 MiB at a time.
    /// </remarks>
    public async Task CopyDiskAsync(string fromImageId, string imageId, int index, CancellationToken cancellationToken = default)
    {
        PageBlobClient source = Blob(fromImageId, index), target = Blob(imageId, index);
        long size = (await StorageErrors.Guard(() => source.GetPropertiesAsync(cancellationToken: cancellationToken))).Value.ContentLength;
        await StorageErrors.Guard(() => target.CreateAsync(size, cancellationToken: cancellationToken));
        var ranges = (await StorageErrors.Guard(() => source.GetPageRangesAsync(cancellationToken: cancellationToken))).Value.PageRanges;
        foreach (global::Azure.HttpRange range in ranges)
        {
            for (long offset = range.Offset; offset < range.Offset + range.Length!.Value; offset += MaxPageWrite)
            {
                long length = Math.Min(MaxPageWrite, range.Offset + range.Length.Value - offset);
                var piece = await StorageErrors.Guard(() => source.DownloadContentAsync(new global::Azure.Storage.Blobs.Models.BlobDownloadOptions { Range = new global::Azure.HttpRange(offset, length) }, cancellationToken));
                using Stream content = piece.Value.Content.ToStream();
                await StorageErrors.Guard(() => target.UploadPagesAsync(content, offset, cancellationToken: cancellationToken));
            }
        }
    }

    private const long MaxPageWrite = 4L << 20;

    public async Task ClearAsync(string imageId, int index, long offset, long length, CancellationToken cancellationToken = default)
    {
        PageBlobClient blob = Blob(imageId, index);
        await StorageErrors.Guard(() => blob.ClearPagesAsync(new global::Azure.HttpRange(offset, length), cancellationToken: cancellationToken));
    }

    public async Task PutDocumentAsync(string imageId, string name, byte[] content, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").UploadAsync(new BinaryData(content), overwrite: true, cancellationToken));
    }

    public async Task<byte[]?> GetDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").DownloadContentAsync(cancellationToken));
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
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
