namespace Smc.Core.Images;

/// <summary>A read-only, seekable stream of a seekable stream followed by a small trailer (a VHD footer), for ranged downloads.</summary>
public sealed class ConcatenatedStream(Stream head, byte[] trailer) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => head.Length + trailer.Length;

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position < head.Length)
        {
            head.Position = _position;
            int n = head.Read(buffer[..(int)Math.Min(buffer.Length, head.Length - _position)]);
            _position += n;
            return n;
        }

        int t = (int)Math.Min(buffer.Length, Length - _position);
        trailer.AsSpan((int)(_position - head.Length), t).CopyTo(buffer);
        _position += t;
        return t;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < head.Length)
        {
            head.Position = _position;
            int n = await head.ReadAsync(buffer[..(int)Math.Min(buffer.Length, head.Length - _position)], cancellationToken);
            _position += n;
            return n;
        }

        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            head.Dispose();
        }

        base.Dispose(disposing);
    }
}
