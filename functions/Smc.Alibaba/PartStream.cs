using System.Buffers;
using System.Security.Cryptography;

namespace Smc.Alibaba;

/// <summary>
/// A part of an upload as a stream: at most <c>length</c> bytes of the source from where it stands, read-only, forward
/// only, and never disposing the source (one image stream serves many parts). .NET has no public bounded window over a
/// stream, so this is written here.
/// </summary>
internal sealed class PartStream(Stream source, long length) : Smc.Core.IO.ReadOnlyStream
{
    /// <summary>The one buffer a part is read through (hashing and sending).</summary>
    internal const int BufferBytes = 1 << 20;

    private readonly long _length = length;
    private long _left = length;

    public override long Length => _length;

    protected override long BytesRead => _length - _left;

    /// <summary>The MD5 of the <paramref name="length"/> bytes at <paramref name="offset"/>, read through one pooled buffer; a short source is an error.</summary>
    public static async Task<byte[]> Md5Async(Stream source, long offset, long length, CancellationToken cancellationToken)
    {
#pragma warning disable CA5351 // Content-MD5 is OSS's integrity check of a part on the wire, not a security measure.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            source.Position = offset;
            for (long left = length; left > 0;)
            {
                int want = (int)Math.Min(BufferBytes, left);
                await source.ReadExactlyAsync(buffer.AsMemory(0, want), cancellationToken);
                md5.AppendData(buffer, 0, want);
                left -= want;
            }

            return md5.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        int read = _left == 0 ? 0 : source.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        return Took(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = _left == 0 ? 0 : await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken);
        return Took(read);
    }

    private int Took(int read)
    {
        if (read == 0 && _left > 0)
        {
            throw new EndOfStreamException($"The source ended {_left} bytes before the part's end.");
        }

        _left -= read;
        return read;
    }
}
