namespace Smc.Core.Images;

/// <summary>A read-only, seekable stream of a seekable stream followed by a small trailer (a VHD footer), for ranged downloads.</summary>
public sealed class ConcatenatedStream(Stream head, byte[] trailer) : ReadOnlySeekableStream
{
    public override long Length => head.Length + trailer.Length;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (Position < head.Length)
        {
            head.Position = Position;
            int n = head.Read(buffer[..(int)Math.Min(buffer.Length, head.Length - Position)]);
            Position += n;
            return n;
        }

        int t = (int)Math.Min(buffer.Length, Length - Position);
        trailer.AsSpan((int)(Position - head.Length), t).CopyTo(buffer);
        Position += t;
        return t;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Position < head.Length)
        {
            head.Position = Position;
            int n = await head.ReadAsync(buffer[..(int)Math.Min(buffer.Length, head.Length - Position)], cancellationToken);
            Position += n;
            return n;
        }

        return Read(buffer.Span);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            head.Dispose();
        }

        base.Dispose(disposing);
    }
}
