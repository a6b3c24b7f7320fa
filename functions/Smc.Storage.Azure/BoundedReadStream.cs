using Smc.Core.IO;
using Smc.Core.Ports;

namespace Smc.Storage.Azure;

/// <summary>
/// A staging blob's download, refused once it yields more than its kind may hold: the read that crosses the bound throws
/// <see cref="StagingBlobTooLargeException"/> (the download itself asks for one byte more than the bound, no further).
/// </summary>
internal sealed class BoundedReadStream(Stream inner, string blobName, long maxBytes) : ReadOnlyStream
{
    private long _read;

    protected override long BytesRead => _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken);
        _read += n;
        return _read > maxBytes ? throw new StagingBlobTooLargeException(blobName, maxBytes) : n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
