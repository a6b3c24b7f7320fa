using Smc.Core.Ports;
using Smc.Transfer;

namespace Smc.Core.Images;

/// <summary>
/// A destination disk read out of its image's kept packs: a seekable, read-only stream of <see cref="ImageDiskMap.SizeBytes"/>
/// bytes that opens each chunk as it is reached (one ranged read of its sealed frame, AES-GCM, zstd), writes the
/// partition-table overlays over it, and reads zero where no chunk is. Holds one decoded chunk at a time; the map's
/// extents stay in their <see cref="ExtentTable"/> (a local file), which the stream owns.
/// </summary>
public sealed class PackedDiskStream : ReadOnlySeekableStream
{
    private readonly ImageDiskMap _map;
    private readonly ExtentTable _extents;
    private readonly IReadOnlyDictionary<int, byte[]> _dataKeys;
    private readonly IImageStore _store;
    private readonly byte[] _frame;
    private readonly byte[] _plain;
    private long _decoded = -1;

    /// <param name="map">The map's head (its extents are in <paramref name="extents"/>).</param>
    /// <param name="dataKeys">Each round's data key, unsealed from <see cref="ImageDiskMap.Keys"/>.</param>
    internal PackedDiskStream(ImageDiskMap map, ExtentTable extents, IReadOnlyDictionary<int, byte[]> dataKeys, IImageStore store)
    {
        _map = map;
        _extents = extents;
        _dataKeys = dataKeys;
        _store = store;
        _frame = new byte[extents.Largest + ChunkCodec.HeaderSize];
        _plain = new byte[Math.Max(extents.Largest, 1)];
    }

    public override long Length => _map.SizeBytes;

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Position >= Length || buffer.Length == 0)
        {
            return 0;
        }

        int count = (int)Math.Min(buffer.Length, Length - Position);
        Memory<byte> target = buffer[..count];
        int filled = 0;
        while (filled < count)
        {
            long at = Position + filled;
            long index = _extents.Find(at);
            if (index >= 0)
            {
                ExtentRecord extent = _extents[index];
                await DecodeAsync(index, extent, cancellationToken);
                int n = (int)Math.Min(count - filled, extent.End - at);
                _plain.AsSpan((int)(at - extent.Destination), n).CopyTo(target.Span[filled..]);
                filled += n;
            }
            else
            {
                // Zero up to the next extent (or the end of this read).
                long next = ~index;
                long until = next < _extents.Count ? _extents[next].Destination : Length;
                int n = (int)Math.Min(count - filled, until - at);
                target.Span.Slice(filled, n).Clear();
                filled += n;
            }
        }

        foreach (ImageOverlay overlay in _map.Overlays)
        {
            long from = Math.Max(overlay.Offset, Position), to = Math.Min(overlay.Offset + overlay.Bytes.Length, Position + count);
            if (from < to)
            {
                overlay.Bytes.AsSpan((int)(from - overlay.Offset), (int)(to - from)).CopyTo(target.Span[(int)(from - Position)..]);
            }
        }

        Position += count;
        return count;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _extents.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task DecodeAsync(long index, ExtentRecord e, CancellationToken cancellationToken)
    {
        if (_decoded == index)
        {
            return;
        }

        _decoded = -1;
        Memory<byte> frame = _frame.AsMemory(0, e.StoredLength);
        await _store.ReadPackAsync(_map.JobId, e.Round, e.PackId, e.Position, frame, cancellationToken);
        if (!_dataKeys.TryGetValue(e.Round, out byte[]? key))
        {
            throw new InvalidDataException($"The image map has no data key for round {e.Round}.");
        }

        // Checked at assembly; checked again, since the kept pack could have been altered in storage since.
        ChunkCodec.Open(frame.Span, new ChunkAddress(_map.JobId, e.Round, _map.Disk, e.Source, e.Length), key, _plain);
        _decoded = index;
    }
}
