using System.Globalization;
using System.Text.RegularExpressions;

namespace Smc.Disks.Tests.Support;

/// <summary>What <c>dumpe2fs</c> (e2fsprogs, which rebuilds BLOCK_UNINIT bitmaps itself) says about an ext file system's blocks.</summary>
internal sealed partial class Dumpe2fs
{
    private Dumpe2fs(string output)
    {
        Output = output;
        BlockSize = Field(output, @"^Block size:\s+(\d+)");
        BlockCount = Field(output, @"^Block count:\s+(\d+)");
        FreeBlocks = Field(output, @"^Free blocks:\s+(\d+)");
        FirstBlock = Field(output, @"^First block:\s+(\d+)");
        var free = new List<(long Start, long Count)>();
        foreach (Match line in FreeRangesLine().Matches(output))
        {
            foreach (string range in line.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] ends = range.Split('-');
                long first = long.Parse(ends[0], CultureInfo.InvariantCulture);
                long last = ends.Length == 2 ? long.Parse(ends[1], CultureInfo.InvariantCulture) : first;
                free.Add((first, last - first + 1));
            }
        }

        FreeRanges = free;
    }

    public string Output { get; }

    public long BlockSize { get; }

    public long BlockCount { get; }

    public long FreeBlocks { get; }

    public long FirstBlock { get; }

    /// <summary>The per-group "Free blocks:" ranges, in block numbers.</summary>
    public IReadOnlyList<(long Start, long Count)> FreeRanges { get; }

    /// <summary>Runs <c>dumpe2fs</c> on an image, or on the file system at <paramref name="offset"/> in it.</summary>
    public static Dumpe2fs Read(string image, long offset = 0) =>
        new(Tool.Run("dumpe2fs", offset == 0 ? image : $"{image}?offset={offset}"));

    /// <summary>Used blocks from <see cref="FirstBlock"/> to the end: the complement of <see cref="FreeRanges"/>, as sorted (start, count) runs.</summary>
    public List<(long Start, long Count)> UsedRanges()
    {
        var used = new List<(long Start, long Count)>();
        long next = FirstBlock;
        foreach ((long start, long count) in FreeRanges.OrderBy(r => r.Start))
        {
            if (start > next)
            {
                used.Add((next, start - next));
            }

            next = Math.Max(next, start + count);
        }

        if (next < BlockCount)
        {
            used.Add((next, BlockCount - next));
        }

        return used;
    }

    private static long Field(string output, string pattern)
    {
        Match match = Regex.Match(output, pattern, RegexOptions.Multiline);
        return match.Success
            ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"'{pattern}' not found in dumpe2fs output.");
    }

    [GeneratedRegex(@"^  Free blocks: ?(.*)$", RegexOptions.Multiline)]
    private static partial Regex FreeRangesLine();
}
