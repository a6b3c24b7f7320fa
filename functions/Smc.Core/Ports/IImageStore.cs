namespace Smc.Core.Ports;

/// <summary>
/// Destination disks of local images. Each job has one working disk per destination disk, which the assembler writes
/// round after round; an image's disk is a frozen, read-only copy of it (a page-blob snapshot), so a round costs what it
/// changed, not the size of the disk, and every image stays exactly its round.
/// </summary>
public interface IImageStore
{
    /// <summary>
    /// Makes the job's working disk ready for a round. With no <paramref name="baseImageId"/>: a new, empty disk of
    /// <paramref name="sizeBytes"/>. With one: exactly that image's disk again (only what was written since it was frozen
    /// is put back), and <paramref name="plannedWrites"/> is remembered as what this round may write, so that a failed or
    /// repeated attempt can be undone the same way. Idempotent.
    /// </summary>
    Task PrepareDiskAsync(string jobId, int index, long sizeBytes, string? baseImageId, IReadOnlyList<DiskRange> plannedWrites, CancellationToken cancellationToken = default);

    /// <summary>Writes 512-aligned bytes at a 512-aligned offset of the working disk (at most 4 MiB per call).</summary>
    Task WriteAsync(string jobId, int index, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Makes a 512-aligned range of the working disk read as zero again (frees its pages).</summary>
    Task ClearAsync(string jobId, int index, long offset, long length, CancellationToken cancellationToken = default);

    /// <summary>Freezes the working disk as disk <paramref name="index"/> of <paramref name="imageId"/>. Idempotent.</summary>
    Task SealDiskAsync(string jobId, int index, string imageId, CancellationToken cancellationToken = default);

    /// <summary>Stores a small document beside the image's disks (e.g. its chunk fingerprints); replaces any earlier one.</summary>
    Task PutDocumentAsync(string imageId, string name, byte[] content, CancellationToken cancellationToken = default);

    /// <summary>A document stored with <see cref="PutDocumentAsync"/>, or null.</summary>
    Task<byte[]?> GetDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default);

    /// <summary>A seekable read stream of a sealed disk of the image, or null.</summary>
    Task<Stream?> OpenReadAsync(string imageId, int index, CancellationToken cancellationToken = default);

    /// <summary>Deletes the image's disks and documents; the working disks go with the last image of their job.</summary>
    Task DeleteAsync(string imageId, CancellationToken cancellationToken = default);

    /// <summary>Deletes the job's working disks if no image of the job still needs them (a deleted job).</summary>
    Task DeleteWorkingDisksAsync(string jobId, CancellationToken cancellationToken = default);
}
