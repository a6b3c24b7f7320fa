namespace Smc.Core.Images;

/// <summary>What the image streams share: read-only, seekable (for ranged downloads), a position clamped to the length.</summary>
public abstract class ReadOnlySeekableStream : Stream
{
    private long _position;

    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => true;

    public sealed override bool CanWrite => false;

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, Length);
    }

    /// <summary>Each stream reads through the memory-based overload; the array-based one forwards to it.</summary>
    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public sealed override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public sealed override void Flush()
    {
    }

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
