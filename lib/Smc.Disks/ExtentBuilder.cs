namespace Smc.Disks;

/// <summary>
/// Collects used byte ranges of a partition and returns them sorted, merged and clipped to the partition. The result is
/// bounded: when more than <see cref="DefaultMaxExtents"/> extents accumulate (a badly fragmented volume), extents separated
/// by small gaps are merged (64 KiB, then doubling) until at most half remain — the gaps are then reported as used,
/// which only means a few more bytes are copied.
/// </summary>
internal sealed class ExtentBuilder
{
    /// <summary>Most extents kept (16 MiB of <see cref="ByteExtent"/> values).</summary>
    public const int DefaultMaxExtents = 1 << 20;

    /// <summary>The first gap merged when the extent count overflows.</summary>
    public const long InitialGapTolerance = 64 * 1024;

    private readonly long _limit;
    private readonly int _maxExtents;
    private List<ByteExtent> _extents = [];
    private long _gapTolerance;
    private bool _sorted = true;

    /// <param name="limit">The partition size: nothing at or past it is reported.</param>
    /// <param name="maxExtents">At least 2.</param>
    public ExtentBuilder(long limit, int maxExtents = DefaultMaxExtents)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExtents, 2);
        _limit = limit;
        _maxExtents = maxExtents;
    }

    /// <summary>Bytes that two extents may be apart and still be merged (0 until the extent count first overflows).</summary>
    public long GapTolerance => _gapTolerance;

    /// <summary>Marks <paramref name="length"/> bytes from <paramref name="start"/> as used (clipped to the partition; any order).</summary>
    public void Add(long start, long length)
    {
        if (length <= 0 || start >= _limit || start > long.MaxValue - length)
        {
            return;
        }

        long end = Math.Min(_limit, start + length);
        start = Math.Max(0, start);
        if (end <= start)
        {
            return;
        }

        if (_extents.Count > 0)
        {
            ByteExtent last = _extents[^1];
            if (start >= last.Start && start <= last.End + _gapTolerance)
            {
                if (end > last.End)
                {
                    _extents[^1] = new ByteExtent(last.Start, end - last.Start);
                }

                return;
            }

            _sorted &= start > last.Start;
        }

        _extents.Add(new ByteExtent(start, end - start));
        if (_extents.Count > _maxExtents)
        {
            Normalize();
            while (_extents.Count > _maxExtents / 2)
            {
                _gapTolerance = _gapTolerance == 0 ? InitialGapTolerance : _gapTolerance * 2;
                Normalize();
            }
        }
    }

    /// <summary>The extents, sorted by start, with overlapping, adjacent (and gap-tolerance-close) ones merged.</summary>
    public IReadOnlyList<ByteExtent> Build()
    {
        Normalize();
        return [.. _extents];
    }

    private void Normalize()
    {
        if (!_sorted)
        {
            _extents.Sort((a, b) => a.Start.CompareTo(b.Start));
            _sorted = true;
        }

        var merged = new List<ByteExtent>(_extents.Count);
        foreach (ByteExtent e in _extents)
        {
            if (merged.Count > 0 && e.Start <= merged[^1].End + _gapTolerance)
            {
                ByteExtent last = merged[^1];
                if (e.End > last.End)
                {
                    merged[^1] = new ByteExtent(last.Start, e.End - last.Start);
                }
            }
            else
            {
                merged.Add(e);
            }
        }

        _extents = merged;
    }
}
