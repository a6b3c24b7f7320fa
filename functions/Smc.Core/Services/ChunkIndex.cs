namespace Smc.Core.Services;

/// <summary>
/// A committed round's chunks as <see cref="CommittedRounds"/> checked them, in (disk, offset) order, in two local
/// <see cref="RecordFile{T}"/>s: every chunk, and those sent this round (what assembly reads). The heap holds per-disk
/// totals only, so a round's size costs the host disk space, not memory. Built by <see cref="Add"/> in order, then read
/// from any number of threads.
/// </summary>
internal sealed class ChunkIndex : IDisposable
{
    private readonly RecordFile<ChunkRecord> _all = new(), _sent = new();
    private readonly SortedDictionary<int, DiskChunks> _disks = [];

    /// <summary>The disks that have chunks, ascending.</summary>
    public IEnumerable<int> Disks => _disks.Keys;

    /// <summary>Adds the next chunk; chunks come in (disk, offset) order.</summary>
    public void Add(in ChunkRecord chunk)
    {
        if (!_disks.TryGetValue(chunk.Disk, out DiskChunks? disk))
        {
            _disks[chunk.Disk] = disk = new DiskChunks { FirstAll = _all.Count, FirstSent = _sent.Count };
        }

        _all.Append(chunk);
        disk.All++;
        disk.Bytes += chunk.Length;
        disk.StoredBytes += chunk.StoredLength;
        if (chunk.Sent)
        {
            _sent.Append(chunk);
            disk.Sent++;
            disk.SentBytes += chunk.Length;
        }
    }

    /// <summary>Ends the building; reads may start.</summary>
    public void Seal()
    {
        _all.Seal();
        _sent.Seal();
    }

    /// <summary>A disk's counts and byte sums (all zero for a disk without chunks).</summary>
    public DiskChunks Totals(int disk) => _disks.TryGetValue(disk, out DiskChunks? d) ? d : new DiskChunks();

    /// <summary>Every chunk of the round, by disk then offset.</summary>
    public IEnumerable<ChunkRecord> All() => _all.Sequence(0, _all.Count);

    /// <summary>Every chunk of a disk, by offset.</summary>
    public IEnumerable<ChunkRecord> All(int disk) => Totals(disk) is var d ? _all.Sequence(d.FirstAll, d.All) : [];

    /// <summary>The chunks of a disk sent this round, by offset.</summary>
    public IEnumerable<ChunkRecord> Sent(int disk) => Totals(disk) is var d ? _sent.Sequence(d.FirstSent, d.Sent) : [];

    /// <summary>Reads sent chunks [first, first + into.Length) of a disk (a slice; bounded by the caller's slice size).</summary>
    public void Sent(int disk, int first, Span<ChunkRecord> into)
    {
        DiskChunks d = Totals(disk);
        if (first < 0 || first + (long)into.Length > d.Sent)
        {
            throw new ArgumentOutOfRangeException(nameof(first), $"Disk {disk} has {d.Sent} chunks sent, not [{first}, {first + (long)into.Length}).");
        }

        _sent.Read(d.FirstSent + first, into);
    }

    /// <summary>The sent chunks of a disk that overlap [offset, offset + length), by offset (found by binary search).</summary>
    public IEnumerable<ChunkRecord> SentOverlapping(int disk, long offset, long length)
    {
        DiskChunks d = Totals(disk);

        // Chunks don't overlap, so their ends ascend with their offsets: find the first that ends after offset.
        long lo = 0, hi = d.Sent;
        while (lo < hi)
        {
            long mid = lo + ((hi - lo) / 2);
            ChunkRecord c = _sent.Read(d.FirstSent + mid);
            if (c.Offset + c.Length <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return _sent.Sequence(d.FirstSent + lo, d.Sent - lo, blockRecords: 64).TakeWhile(c => c.Offset < offset + length);
    }

    public void Dispose()
    {
        _all.Dispose();
        _sent.Dispose();
    }

    /// <summary>Where a disk's chunks lie in the two files, and what they add up to.</summary>
    internal sealed class DiskChunks
    {
        public long FirstAll { get; init; }

        public long FirstSent { get; init; }

        public long All { get; set; }

        public long Sent { get; set; }

        /// <summary>Plaintext bytes of every chunk (what the disk holds that isn't zero).</summary>
        public long Bytes { get; set; }

        /// <summary>Stored (framed) bytes of every chunk, as the manifest gives them.</summary>
        public long StoredBytes { get; set; }

        /// <summary>Plaintext bytes of the chunks sent this round.</summary>
        public long SentBytes { get; set; }
    }
}
