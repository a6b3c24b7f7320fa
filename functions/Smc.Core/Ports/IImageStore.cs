namespace Smc.Core.Ports;

/// <summary>Destination disks of local images: sparse page blobs written by the assembler, read by downloads.</summary>
public interface IImageStore
{
    /// <summary>Creates (or re-creates, emptied) the disk blob; size is a multiple of 512.</summary>
    Task CreateDiskAsync(string imageId, int index, long sizeBytes, CancellationToken cancellationToken = default);

    /// <summary>Writes 512-aligned bytes at a 512-aligned offset (at most 4 MiB per call).</summary>
    Task WriteAsync(string imageId, int index, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the disk a copy of another image's disk of the same size (the base of an incremental round): server-side,
    /// nothing passes through this process. Returns when the copy is complete.
    /// </summary>
    Task CopyDiskAsync(string fromImageId, string imageId, int index, CancellationToken cancellationToken = default);

    /// <summary>Makes a 512-aligned range read as zero again (frees its pages).</summary>
    Task ClearAsync(string imageId, int index, long offset, long length, CancellationToken cancellationToken = default);

    /// <summary>Stores a small document beside the image's disks (e.g. its chunk fingerprints); replaces any earlier one.</summary>
    Task PutDocumentAsync(string imageId, string name, byte[] content, CancellationToken cancellationToken = default);

    /// <summary>A document stored with <see cref="PutDocumentAsync"/>, or null.</summary>
    Task<byte[]?> GetDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default);

    /// <summary>A seekable read stream of the disk, or null.</summary>
    Task<Stream?> OpenReadAsync(string imageId, int index, CancellationToken cancellationToken = default);

    Task DeleteAsync(string imageId, CancellationToken cancellationToken = default);
}
