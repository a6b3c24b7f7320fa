namespace Smc.Agent.Replication;

/// <summary>
/// The ranges a live round's catch-up passes have read, per disk and cell. The round's journal drops an earlier pass's
/// chunk wherever a later pass re-reads any part of it (<see cref="RoundJournal.Entries"/>), so a later range that overlaps
/// an earlier one must cover all of it: <see cref="Widen"/> stretches it over every earlier range it touches. Without
/// that, a pass that re-read a cell's planned piece plus a write far into the cell, followed by a pass that re-read the
/// piece plus a write near its start, lost the first write's bytes from the image.
/// </summary>
internal sealed class RereadRanges(int chunkSize)
{
    private readonly Dictionary<(int Disk, long Cell), List<(long Start, long End)>> _read = [];

    /// <summary>The ranges, each widened over the earlier ranges of its cell it overlaps (they are of its region group: groups don't overlap).</summary>
    public List<ChunkRange> Widen(IEnumerable<ChunkRange> ranges)
    {
        var widened = new List<ChunkRange>();
        foreach (ChunkRange r in ranges)
        {
            long start = r.Offset, end = r.Offset + r.Length;
            if (_read.TryGetValue((r.Disk, r.Offset / chunkSize), out var earlier))
            {
                for (bool grew = true; grew;)
                {
                    grew = false;
                    foreach ((long s, long e) in earlier)
                    {
                        if (s < end && start < e && (s < start || e > end))
                        {
                            (start, end, grew) = (Math.Min(start, s), Math.Max(end, e), true);
                        }
                    }
                }
            }

            widened.Add(start == r.Offset && end == r.Offset + r.Length ? r : new ChunkRange(r.Disk, start, checked((int)(end - start))));
        }

        return widened;
    }

    /// <summary>Notes ranges a pass read.</summary>
    public void Add(IEnumerable<ChunkRange> ranges)
    {
        foreach (ChunkRange r in ranges)
        {
            if (!_read.TryGetValue((r.Disk, r.Offset / chunkSize), out var list))
            {
                _read[(r.Disk, r.Offset / chunkSize)] = list = [];
            }

            list.Add((r.Offset, r.Offset + r.Length));
        }
    }
}
