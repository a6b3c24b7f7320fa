namespace Smc.Core.Ports;

/// <summary>
/// The local image store: the packs that images are made of (kept out of staging, which the agent can write) and the
/// documents beside each image (its disk maps, its fingerprints). See <see cref="Images.ImageDiskMap"/>.
/// </summary>
public interface IImageStore
{
    /// <summary>
    /// Copies a committed pack of the job's staging into the store, server-side, unless it is there already. Assembly
    /// checks the kept copy, so what an image reads is what was checked even if staging is written again later.
    /// </summary>
    Task KeepPackAsync(string jobId, int round, string packId, CancellationToken cancellationToken = default);

    /// <summary>Reads [position, position + destination.Length) of a kept pack; <see cref="EndOfStreamException"/> when it is shorter.</summary>
    Task ReadPackAsync(string jobId, int round, string packId, long position, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Deletes the job's kept packs whose <c>{round}/{packId}</c> is not in <paramref name="keep"/>; returns how many.</summary>
    Task<int> DeletePacksAsync(string jobId, IReadOnlySet<string> keep, CancellationToken cancellationToken = default);

    /// <summary>Stores a document beside the image; replaces any earlier one.</summary>
    Task PutDocumentAsync(string imageId, string name, byte[] content, CancellationToken cancellationToken = default);

    /// <summary>Stores a document beside the image from a stream read to its end (a big one is never held whole); replaces any earlier one.</summary>
    Task PutDocumentAsync(string imageId, string name, Stream content, CancellationToken cancellationToken = default);

    /// <summary>A document stored with <see cref="PutDocumentAsync(string, string, byte[], CancellationToken)"/>, or null.</summary>
    Task<byte[]?> GetDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default);

    /// <summary>A document as a stream read from the store as it is consumed, or null when there is none.</summary>
    Task<Stream?> OpenDocumentAsync(string imageId, string name, CancellationToken cancellationToken = default);

    /// <summary>Whether the document exists (nothing of it is read).</summary>
    Task<bool> DocumentExistsAsync(string imageId, string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes the image's documents (its packs go with <see cref="DeletePacksAsync"/> once no image uses them).</summary>
    Task DeleteAsync(string imageId, CancellationToken cancellationToken = default);
}
