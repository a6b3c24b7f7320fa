namespace Smc.Core.Ports;

/// <summary>A byte range of a destination disk, 512-aligned.</summary>
public readonly record struct DiskRange(long Offset, long Length)
{
    public long End => Offset + Length;

    /// <summary>The ranges sorted, with overlapping and touching ones merged.</summary>
    public static List<DiskRange> Coalesce(IEnumerable<DiskRange> ranges)
    {
        var result = new List<DiskRange>();
        foreach (DiskRange r in ranges.Where(r => r.Length > 0).OrderBy(r => r.Offset))
        {
            if (result.Count > 0 && r.Offset <= result[^1].End)
            {
                DiskRange last = result[^1];
                result[^1] = new DiskRange(last.Offset, Math.Max(last.End, r.End) - last.Offset);
            }
            else
            {
                result.Add(r);
            }
        }

        return result;
    }
}
