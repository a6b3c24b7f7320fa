namespace Smc.Disks.Tests.Support;

/// <summary>A read-only stream of <see cref="Length"/> bytes: <c>head</c> followed by zeros (a sparse image held in memory).</summary>
internal sealed class ZeroTailStream(byte[] head, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Max(0, Math.Min(buffer.Length, length - _position));
        int fromHead = (int)Math.Clamp(head.Length - _position, 0, n);
        if (fromHead > 0)
        {
            head.AsSpan((int)_position, fromHead).CopyTo(buffer);
        }

        buffer[fromHead..n].Clear();

        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
