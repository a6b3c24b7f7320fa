using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using Smc.Core.Ports;
using Smc.Wire.Staging;

namespace Smc.Storage.Azure;

/// <summary>
/// The local image store in one container: <c>packs/{jobId}/{round}/{packId}</c> (block blobs copied server-side from
/// the job's staging container) and <c>{imageId}/{document}</c>. Within one account a copy moves no data through this
/// process (on Azurite it only references the source's blocks).
/// </summary>
internal sealed class BlobImageStore(BlobServiceClient service, BlobContainerClient container) : IImageStore
{
    public async Task KeepPackAsync(string jobId, int round, string packId, CancellationToken cancellationToken = default)
    {
        BlobClient source = service.GetBlobContainerClient(StagingNames.Container(jobId)).GetBlobClient(StagingNames.Pack(round, packId));
        BlobClient kept = Pack(jobId, round, packId);
        DateTimeOffset deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        while (true)
        {
            BlobProperties? have = await PropertiesAsync(kept, cancellationToken);
            if (have is not null && (have.CopyId is null || have.CopyStatus == CopyStatus.Success))
            {
                return;
            }

            if (have?.CopyStatus == CopyStatus.Pending)
            {
                // Another slice (a pack may hold chunks of two) or an earlier attempt is copying it: wait for that copy.
                if (DateTimeOffset.UtcNow > deadline)
                {
                    throw new TimeoutException($"The copy of pack {packId} of round {round} into the image store did not finish in 5 minutes.");
                }

                await Task.Delay(200, cancellationToken);
                continue;
            }

            try
            {
                // A short read SAS authorises the source (with an account key the store has; within the account it needs none).
                Uri from = source.CanGenerateSasUri ? source.GenerateSasUri(BlobSasPermissions.Read, DateTimeOffset.UtcNow.AddMinutes(15)) : source.Uri;
                CopyFromUriOperation copy = await StorageErrors.Guard(() => kept.StartCopyFromUriAsync(from, cancellationToken: cancellationToken));
                await copy.WaitForCompletionAsync(TimeSpan.FromMilliseconds(200), cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                throw new InvalidDataException($"Pack {packId} of round {round} is not in staging.", e);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // A copy to it is pending already: look again.
            }
        }
    }

    /// <exception cref="EndOfStreamException">The pack is shorter than the range (a range past its end answers 416).</exception>
    public async Task ReadPackAsync(string jobId, int round, string packId, long position, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        BlobDownloadStreamingResult r;
        try
        {
            r = (await StorageErrors.Guard(() => Pack(jobId, round, packId).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(position, destination.Length) }, cancellationToken))).Value;
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            throw new EndOfStreamException($"Pack {packId} of round {round} ends before byte {position}.", e);
        }

        await using Stream s = r.Content;
        await s.ReadExactlyAsync(destination, cancellationToken);
    }

    public async Task<int> DeletePacksAsync(string jobId, IReadOnlySet<string> keep, CancellationToken cancellationToken = default)
    {
        string prefix = $"packs/{jobId}/";
        var gone = new List<string>();
        await foreach (BlobItem blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
        {
            if (!keep.Contains(blob.Name[prefix.Length..]))
            {
                gone.Add(blob.Name);
            }
        }

        foreach (string name in gone)
        {
            await StorageErrors.Guard(() => container.DeleteBlobIfExistsAsync(name, cancellationToken: cancellationToken));
        }

        return gone.Count;
    }

    public async Task PutDocumentAsync(string imageId, string name, byte[] content, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").UploadAsync(new BinaryData(content), overwrite: true, cancellationToken));
    }

    public async Task PutDocumentAsync(string imageId, string name, Stream content, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").UploadAsync(content, overwrite: true, cancellationToken));
    }

    public async Task<Stream?> OpenDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return (await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").DownloadStreamingAsync(cancellationToken: cancellationToken))).Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<bool> DocumentExistsAsync(string imageId, string name, CancellationToken cancellationToken = default) =>
        (await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").ExistsAsync(cancellationToken))).Value;

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

    public async Task DeleteAsync(string imageId, CancellationToken cancellationToken = default)
    {
        try
        {
            await foreach (BlobItem blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, imageId + "/", cancellationToken))
            {
                await StorageErrors.Guard(() => container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken));
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    private static async Task<BlobProperties?> PropertiesAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            return (await StorageErrors.Guard(() => blob.GetPropertiesAsync(cancellationToken: cancellationToken))).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private BlobClient Pack(string jobId, int round, string packId) => container.GetBlobClient($"packs/{jobId}/{round}/{packId}");
}
