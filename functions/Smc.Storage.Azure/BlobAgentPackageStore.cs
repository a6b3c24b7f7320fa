using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Smc.Core.Ports;

namespace Smc.Storage.Azure;

/// <summary>Agent binaries as blobs <c>{runtime}/smc-agent</c>, their SHA-256 and size in metadata.</summary>
internal sealed class BlobAgentPackageStore(BlobContainerClient container, TimeProvider clock) : IAgentPackageStore
{
    public async Task<AgentPackageInfo> PutAsync(string runtime, Stream content, CancellationToken cancellationToken = default)
    {
        BlobClient blob = container.GetBlobClient(BlobName(runtime));
        using var hashing = new HashingReadStream(content);
        await StorageErrors.Guard(() => blob.UploadAsync(hashing, overwrite: true, cancellationToken));
        var info = new AgentPackageInfo(runtime, hashing.Count, hashing.Sha256Hex(), clock.GetUtcNow());
        await StorageErrors.Guard(() => blob.SetMetadataAsync(
            new Dictionary<string, string>
            {
                ["sha256"] = info.Sha256,
                ["size"] = info.SizeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["uploaded"] = info.UploadedAt.ToString("O"),
            },
            cancellationToken: cancellationToken));
        return info;
    }

    public async Task<AgentPackageInfo?> GetInfoAsync(string runtime, CancellationToken cancellationToken = default)
    {
        try
        {
            BlobProperties p = (await StorageErrors.Guard(() => container.GetBlobClient(BlobName(runtime)).GetPropertiesAsync(cancellationToken: cancellationToken))).Value;
            return p.Metadata.TryGetValue("sha256", out string? sha)
                ? new AgentPackageInfo(runtime, p.ContentLength, sha, p.LastModified)
                : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(string runtime, CancellationToken cancellationToken = default)
    {
        try
        {
            return await StorageErrors.Guard(() => container.GetBlobClient(BlobName(runtime)).OpenReadAsync(cancellationToken: cancellationToken));
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static string BlobName(string runtime) => runtime + "/smc-agent";

    /// <summary>Passes a stream through while hashing what is read.</summary>
    private sealed class HashingReadStream(Stream inner) : Smc.Core.IO.ReadOnlyStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _read;

        public long Count => _read;

        protected override long BytesRead => _read;

        public string Sha256Hex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _hash.AppendData(buffer[..n]);
            _read += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await inner.ReadAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span[..n]);
            _read += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
