namespace Smc.Disks;

/// <summary>
/// A read-only view of a disk of which only the first and the last bytes are known: <c>head</c> at offset 0, <c>tail</c>
/// ending at <see cref="Length"/>, zeros in between. Lets <see cref="PartitionTableReader"/> validate a table from those
/// bytes alone.
/// </summary>
internal sealed class HeadTailStream : Stream
{
    private readonly byte[] _head;
    private readonly byte[] _tail;
    private readonly long _length;
    private long _position;

    public HeadTailStream(byte[] head, byte[] tail, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _head = head;
        _tail = tail;
        _length = length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Clamp(_length - _position, 0, buffer.Length);
        Span<byte> destination = buffer[..n];
        destination.Clear();
        CopyOverlap(_head, 0, destination);
        CopyOverlap(_tail, _length - _tail.Length, destination);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Copies the part of <paramref name="source"/> (which starts at disk offset <paramref name="sourceStart"/>) that overlaps <paramref name="destination"/> (at the current position).</summary>
    private void CopyOverlap(byte[] source, long sourceStart, Span<byte> destination)
    {
        long from = Math.Max(_position, sourceStart);
        long to = Math.Min(_position + destination.Length, sourceStart + source.Length);
        if (to > from)
        {
            source.AsSpan((int)(from - sourceStart), (int)(to - from)).CopyTo(destination[(int)(from - _position)..]);
        }
    }
}
