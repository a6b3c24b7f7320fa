using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Smc.Core.Ports;

namespace Smc.Storage.Azure;

/// <summary>
/// Destination disks as sparse page blobs (unwritten pages cost nothing and read as zero), one container for all images:
/// <list type="bullet">
/// <item><c>jobs/{jobId}/disk{index}.raw</c> — the job's working disk, written by the assembler round after round;</item>
/// <item><c>jobs/{jobId}/disk{index}.state.json</c> — which snapshot the working disk equals, but for the ranges a round
/// in progress may have written (<see cref="WorkingState"/>);</item>
/// <item><c>{imageId}/disk{index}.json</c> — the image's disk: a snapshot of the working disk (<see cref="SealedDisk"/>);</item>
/// <item><c>{imageId}/{document}</c> — documents beside the image (its fingerprints).</item>
/// </list>
/// A snapshot shares every page it has in common with the working disk, so a round costs storage and time in proportion
/// to what it changed. Images written before snapshots (a page blob <c>{imageId}/disk{index}.raw</c>) are still read.
/// </summary>
/// <remarks>
/// Why snapshots rather than Copy Blob: on Azurite a page blob made by Copy Blob shares its page list with its source,
/// so writes to the copy changed the source image too (seen in IncrementalTests), and Get Page Ranges Diff is not
/// implemented there. A snapshot's page list is its own in both. Putting the working disk back to a snapshot therefore
/// uses the ranges this store itself recorded before writing (the state document), not a server-side diff.
/// </remarks>
internal sealed class PageBlobImageStore(BlobContainerClient container) : IImageStore
{
    private const long MaxPageWrite = 4L << 20;
    private const string ImageMetadata = "image";

    public async Task PrepareDiskAsync(string jobId, int index, long sizeBytes, string? baseImageId, IReadOnlyList<DiskRange> plannedWrites, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => container.CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        PageBlobClient working = Working(jobId, index);
        if (baseImageId is null)
        {
            // A complete round: a new empty disk (snapshots of earlier rounds, if any, keep their pages).
            await StorageErrors.Guard(() => working.CreateAsync(sizeBytes, cancellationToken: cancellationToken));
            await PutStateAsync(jobId, index, new WorkingState { SizeBytes = sizeBytes }, cancellationToken);
            return;
        }

        PageBlobClient source = await SourceAsync(baseImageId, index, cancellationToken)
            ?? throw new InvalidOperationException($"Image {baseImageId} has no disk {index}.");
        SealedDisk? sealedBase = await GetJsonAsync<SealedDisk>(DiskDocument(baseImageId, index), cancellationToken);
        WorkingState? state = await GetJsonAsync<WorkingState>(StateDocument(jobId, index), cancellationToken);
        bool exists = (await StorageErrors.Guard(() => working.ExistsAsync(cancellationToken))).Value;
        if (exists && sealedBase is not null && state?.Snapshot == sealedBase.Snapshot && state.SizeBytes == sizeBytes && sealedBase.JobId == jobId)
        {
            // The usual case: the working disk is the base image but for what an earlier attempt may have written.
            foreach (DiskRange range in state.Pending)
            {
                await RestoreAsync(source, working, range, cancellationToken);
            }
        }
        else
        {
            // The working disk moved on past the base (a newer round's image was dropped) or was never made from it: rebuild
            // it from the base, every written range of it.
            await StorageErrors.Guard(() => working.CreateAsync(sizeBytes, cancellationToken: cancellationToken));
            await CopyWrittenAsync(source, working, null, cancellationToken);
        }

        // Written before any page of the round is, so that the next attempt knows what to put back.
        await PutStateAsync(jobId, index, new WorkingState
        {
            SizeBytes = sizeBytes,
            Snapshot = sealedBase?.JobId == jobId ? sealedBase.Snapshot : null,
            Pending = DiskRange.Coalesce(plannedWrites),
        }, cancellationToken);
    }

    public async Task WriteAsync(string jobId, int index, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        await StorageErrors.Guard(() => Working(jobId, index).UploadPagesAsync(stream, offset, cancellationToken: cancellationToken));
    }

    public async Task ClearAsync(string jobId, int index, long offset, long length, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => Working(jobId, index).ClearPagesAsync(new HttpRange(offset, length), cancellationToken: cancellationToken));
    }

    public async Task SealDiskAsync(string jobId, int index, string imageId, CancellationToken cancellationToken = default)
    {
        SealedDisk? done = await GetJsonAsync<SealedDisk>(DiskDocument(imageId, index), cancellationToken);
        if (done is null)
        {
            // Each snapshot names its image in its metadata, so a retry after a crash between the snapshot and the document
            // takes the snapshot it already made (nothing is written between them) instead of leaving one behind.
            string? snapshot = (await SnapshotsAsync(jobId, cancellationToken))
                .FirstOrDefault(s => s.Name == Working(jobId, index).Name && s.Metadata.TryGetValue(ImageMetadata, out string? id) && id == imageId)?.Snapshot;
            snapshot ??= (await StorageErrors.Guard(() => Working(jobId, index).CreateSnapshotAsync(
                new Dictionary<string, string> { [ImageMetadata] = imageId }, cancellationToken: cancellationToken))).Value.Snapshot;
            done = new SealedDisk { JobId = jobId, Snapshot = snapshot };
            await PutJsonAsync(DiskDocument(imageId, index), done, cancellationToken);
        }

        WorkingState? state = await GetJsonAsync<WorkingState>(StateDocument(jobId, index), cancellationToken);
        await PutStateAsync(jobId, index, new WorkingState { SizeBytes = state?.SizeBytes ?? 0, Snapshot = done.Snapshot }, cancellationToken);
    }

    public async Task PutDocumentAsync(string imageId, string name, byte[] content, CancellationToken cancellationToken = default)
    {
        await StorageErrors.Guard(() => container.GetBlobClient($"{imageId}/{name}").UploadAsync(new BinaryData(content), overwrite: true, cancellationToken));
    }

    public async Task<byte[]?> GetDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default) =>
        await GetBytesAsync($"{imageId}/{name}", cancellationToken);

    public async Task<Stream?> OpenReadAsync(string imageId, int index, CancellationToken cancellationToken = default)
    {
        PageBlobClient? source = await SourceAsync(imageId, index, cancellationToken);
        if (source is null)
        {
            return null;
        }

        try
        {
            return await StorageErrors.Guard(() => source.OpenReadAsync(0, 4 << 20, cancellationToken: cancellationToken));
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string imageId, CancellationToken cancellationToken = default)
    {
        var jobs = new HashSet<string>();
        try
        {
            await foreach (BlobItem blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, imageId + "/", cancellationToken))
            {
                if (blob.Name.EndsWith(".json", StringComparison.Ordinal) && blob.Name.Contains("/disk", StringComparison.Ordinal)
                    && await GetJsonAsync<SealedDisk>(blob.Name, cancellationToken) is { } disk)
                {
                    string working = blob.Name[(imageId.Length + 1)..^".json".Length] + ".raw";
                    await container.GetBlobClient($"jobs/{disk.JobId}/{working}").WithSnapshot(disk.Snapshot).DeleteIfExistsAsync(cancellationToken: cancellationToken);
                    jobs.Add(disk.JobId);
                }

                await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }

        foreach (string jobId in jobs)
        {
            await DeleteWorkingDisksAsync(jobId, cancellationToken);
        }
    }

    public async Task DeleteWorkingDisksAsync(string jobId, CancellationToken cancellationToken = default)
    {
        // A working disk is kept while an image still has a snapshot of it; the last image takes it along.
        List<BlobItem> snapshots = await SnapshotsAsync(jobId, cancellationToken);
        foreach (BlobItem working in snapshots.Where(b => b.Snapshot is null && b.Name.EndsWith(".raw", StringComparison.Ordinal)))
        {
            bool needed = false;
            foreach (BlobItem snapshot in snapshots.Where(s => s.Name == working.Name && s.Snapshot is not null))
            {
                string disk = working.Name[(working.Name.LastIndexOf('/') + 1)..^".raw".Length];
                if (snapshot.Metadata.TryGetValue(ImageMetadata, out string? imageId)
                    && await GetJsonAsync<SealedDisk>($"{imageId}/{disk}.json", cancellationToken) is { } sealedDisk && sealedDisk.Snapshot == snapshot.Snapshot)
                {
                    needed = true;
                    break;
                }
            }

            if (!needed)
            {
                await StorageErrors.Guard(() => container.GetBlobClient(working.Name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken));
                await StorageErrors.Guard(() => container.DeleteBlobIfExistsAsync(working.Name[..^".raw".Length] + ".state.json", cancellationToken: cancellationToken));
            }
        }
    }

    /// <summary>The job's working disks and their snapshots, with metadata.</summary>
    private async Task<List<BlobItem>> SnapshotsAsync(string jobId, CancellationToken cancellationToken)
    {
        var items = new List<BlobItem>();
        try
        {
            await foreach (BlobItem blob in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.Snapshots, $"jobs/{jobId}/", cancellationToken))
            {
                items.Add(blob);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }

        return items;
    }

    /// <summary>The page blob holding a sealed disk of the image: a snapshot of its job's working disk, or a blob of the older layout.</summary>
    private async Task<PageBlobClient?> SourceAsync(string imageId, int index, CancellationToken cancellationToken)
    {
        if (await GetJsonAsync<SealedDisk>(DiskDocument(imageId, index), cancellationToken) is { } disk)
        {
            return Working(disk.JobId, index).WithSnapshot(disk.Snapshot);
        }

        PageBlobClient legacy = container.GetPageBlobClient($"{imageId}/disk{index}.raw");
        return (await StorageErrors.Guard(() => legacy.ExistsAsync(cancellationToken))).Value ? legacy : null;
    }

    /// <summary>Puts a range of the working disk back to the base: cleared, then the base's written pages in it copied.</summary>
    private static async Task RestoreAsync(PageBlobClient source, PageBlobClient working, DiskRange range, CancellationToken cancellationToken)
    {
        await StorageErrors.Guard(() => working.ClearPagesAsync(new HttpRange(range.Offset, range.Length), cancellationToken: cancellationToken));
        await CopyWrittenAsync(source, working, range, cancellationToken);
    }

    /// <summary>Copies the written page ranges of <paramref name="source"/> (within <paramref name="within"/>) through this process, 4 MiB at a time.</summary>
    private static async Task CopyWrittenAsync(PageBlobClient source, PageBlobClient target, DiskRange? within, CancellationToken cancellationToken)
    {
        HttpRange? scope = within is { } w ? new HttpRange(w.Offset, w.Length) : null;
        var ranges = (await StorageErrors.Guard(() => source.GetPageRangesAsync(scope, cancellationToken: cancellationToken))).Value.PageRanges;
        foreach (HttpRange range in ranges)
        {
            long start = Math.Max(range.Offset, within?.Offset ?? 0);
            long end = Math.Min(range.Offset + range.Length!.Value, within?.End ?? long.MaxValue);
            for (long offset = start; offset < end; offset += MaxPageWrite)
            {
                long length = Math.Min(MaxPageWrite, end - offset);
                var piece = await StorageErrors.Guard(() => source.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length) }, cancellationToken));
                using Stream content = piece.Value.Content.ToStream();
                await StorageErrors.Guard(() => target.UploadPagesAsync(content, offset, cancellationToken: cancellationToken));
            }
        }
    }

    private Task PutStateAsync(string jobId, int index, WorkingState state, CancellationToken cancellationToken) =>
        PutJsonAsync(StateDocument(jobId, index), state, cancellationToken);

    private async Task PutJsonAsync<T>(string name, T value, CancellationToken cancellationToken) =>
        await StorageErrors.Guard(() => container.GetBlobClient(name).UploadAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(value, StoreJson.Options)), overwrite: true, cancellationToken));

    private async Task<T?> GetJsonAsync<T>(string name, CancellationToken cancellationToken)
        where T : class =>
        await GetBytesAsync(name, cancellationToken) is { } bytes ? JsonSerializer.Deserialize<T>(bytes, StoreJson.Options) : null;

    private async Task<byte[]?> GetBytesAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var result = await StorageErrors.Guard(() => container.GetBlobClient(name).DownloadContentAsync(cancellationToken));
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private PageBlobClient Working(string jobId, int index) => container.GetPageBlobClient($"jobs/{jobId}/disk{index}.raw");

    private static string StateDocument(string jobId, int index) => $"jobs/{jobId}/disk{index}.state.json";

    private static string DiskDocument(string imageId, int index) => $"{imageId}/disk{index}.json";

    /// <summary>The working disk equals <see cref="Snapshot"/> except, perhaps, in <see cref="Pending"/>; no snapshot: unknown.</summary>
    private sealed class WorkingState
    {
        public long SizeBytes { get; init; }

        public string? Snapshot { get; init; }

        public List<DiskRange> Pending { get; init; } = [];
    }

    /// <summary>An image's disk: the snapshot of its job's working disk.</summary>
    private sealed class SealedDisk
    {
        public required string JobId { get; init; }

        public required string Snapshot { get; init; }
    }
}
