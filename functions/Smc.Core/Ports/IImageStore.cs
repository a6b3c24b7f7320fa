namespace Smc.Core.Ports;

/// <summary>Destination disks of local images: sparse page blobs written by the assembler, read by downloads.</summary>
public interface IImageStore
{
    /// <summary>Creates (or re-creates, emptied) the disk blob; size is a multiple of 512.</summary>
    Task CreateDiskAsync(string imageId, int index, long sizeBytes, CancellationToken cancellationToken = default);

    /// <summary>Writes 512-aligned bytes at a 512-aligned offset (at most 4 MiB per call).</summary>
    Task WriteAsync(string imageId, int index, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>A seekable read stream of the disk, or null.</summary>
    Task<Stream?> OpenReadAsync(string imageId, int index, CancellationToken cancellationToken = default);

    Task DeleteAsync(string imageId, CancellationToken cancellationToken = default);
}
