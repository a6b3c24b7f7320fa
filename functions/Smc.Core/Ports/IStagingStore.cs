namespace Smc.Core.Ports;

/// <summary>Blob staging: one container per job, written by its agent through a create/write-only SAS.</summary>
public interface IStagingStore
{
    Task EnsureAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>A container SAS URL allowing create and write only, valid for <paramref name="lifetime"/>.</summary>
    Task<(Uri ContainerUrl, DateTimeOffset ExpiresAt)> GetUploadUrlAsync(string jobId, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>
    /// A whole blob (manifests, commit markers) of at most <paramref name="maxBytes"/>; null when it does not exist. A longer
    /// one throws <see cref="StagingBlobTooLargeException"/> after reading no more than <paramref name="maxBytes"/> + 1 bytes
    /// (one ranged read: the agent can't swap it for a bigger one between a size check and the read).
    /// </summary>
    Task<byte[]?> ReadAsync(string jobId, string blobName, long maxBytes, CancellationToken cancellationToken = default);

    /// <summary>
    /// A blob (a manifest) read as it is consumed, with <see cref="ReadAsync"/>'s bound: one ranged read of at most
    /// <paramref name="maxBytes"/> + 1 bytes, and reading past <paramref name="maxBytes"/> throws
    /// <see cref="StagingBlobTooLargeException"/>. Null when it does not exist.
    /// </summary>
    Task<Stream?> OpenReadAsync(string jobId, string blobName, long maxBytes, CancellationToken cancellationToken = default);

    /// <summary>A blob's length; null when it does not exist.</summary>
    Task<long?> LengthAsync(string jobId, string blobName, CancellationToken cancellationToken = default);

    /// <summary>Reads [offset, offset+length) of a blob into <paramref name="destination"/>.</summary>
    Task ReadRangeAsync(string jobId, string blobName, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    Task DeleteAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// A source's throughput probe (<c>staging.throughput</c> of its pre-flight check): a container of its own, not a
    /// job's, created now; a create/write-only SAS to it valid for <paramref name="lifetime"/>.
    /// </summary>
    Task<(Uri ContainerUrl, DateTimeOffset ExpiresAt)> GetProbeUrlAsync(string sourceId, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>Deletes a source's probe container; returns the bytes its committed blobs held (0 when there was none).</summary>
    Task<long> DeleteProbeAsync(string sourceId, CancellationToken cancellationToken = default);
}

/// <summary>A staging blob is longer than the control plane reads for its kind.</summary>
public sealed class StagingBlobTooLargeException(string blobName, long maxBytes)
    : Exception($"{blobName} is longer than the {maxBytes} bytes such a blob may have.")
{
    public string BlobName { get; } = blobName;

    public long MaxBytes { get; } = maxBytes;
}
