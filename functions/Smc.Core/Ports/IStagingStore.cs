namespace Smc.Core.Ports;

/// <summary>Blob staging: one container per job, written by its agent through a create/write-only SAS.</summary>
public interface IStagingStore
{
    Task EnsureAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>A container SAS URL allowing create and write only, valid for <paramref name="lifetime"/>.</summary>
    Task<(Uri ContainerUrl, DateTimeOffset ExpiresAt)> GetUploadUrlAsync(string jobId, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>A whole blob (manifests, commit markers); null when it does not exist.</summary>
    Task<byte[]?> ReadAsync(string jobId, string blobName, CancellationToken cancellationToken = default);

    /// <summary>Reads [offset, offset+length) of a blob into <paramref name="destination"/>.</summary>
    Task ReadRangeAsync(string jobId, string blobName, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    Task DeleteAsync(string jobId, CancellationToken cancellationToken = default);
}
