namespace Smc.Disks.Tests;

/// <summary>The helpers behind <see cref="AllocationMaps"/>: merging extents, bounding their number, and finding bit runs.</summary>
public sealed class ExtentBuilderTests
{
    [Fact]
    public void Build_OutOfOrderOverlappingAndAdjacent_SortsMergesAndClips()
    {
        var builder = new ExtentBuilder(limit: 1000);
        builder.Add(500, 100);
        builder.Add(100, 50);
        builder.Add(150, 10); // adjacent to the previous one
        builder.Add(120, 5); // inside an earlier one
        builder.Add(550, 100); // overlaps the first
        builder.Add(990, 50); // clipped at the limit
        builder.Add(2000, 10); // past the limit
        builder.Add(-10, 20); // clipped at 0
        builder.Add(300, 0); // empty

        Assert.Equal([new ByteExtent(0, 10), new ByteExtent(100, 60), new ByteExtent(500, 150), new ByteExtent(990, 10)], builder.Build());
    }

    [Fact]
    public void Add_MoreThanTheMaximum_MergesAcrossGapsAndStaysBounded()
    {
        var builder = new ExtentBuilder(limit: long.MaxValue, maxExtents: 8);
        for (long i = 0; i < 100; i++)
        {
            builder.Add(i * 4096 * 2, 4096); // every other 4 KiB block
        }

        IReadOnlyList<ByteExtent> extents = builder.Build();
        Assert.InRange(extents.Count, 1, 8);
        Assert.True(builder.GapTolerance >= ExtentBuilder.InitialGapTolerance);
        for (long i = 0; i < 100; i++)
        {
            long start = i * 4096 * 2;
            Assert.Contains(extents, e => e.Start <= start && e.End >= start + 4096); // still covers every used block
        }
    }

    [Fact]
    public void ForEach_Runs_AreFoundAcrossBytesAndWords()
    {
        var bitmap = new byte[32];
        void Set(int from, int count)
        {
            for (int i = from; i < from + count; i++)
            {
                bitmap[i / 8] |= (byte)(1 << (i % 8));
            }
        }

        Set(0, 1);
        Set(3, 70); // crosses a 64-bit word
        Set(128, 64); // a whole word
        Set(250, 6); // up to the end
        var runs = new List<(long, long)>();
        BitRuns.ForEach(bitmap, 256, (first, count) => runs.Add((first, count)));
        Assert.Equal([(0L, 1L), (3L, 70L), (128L, 64L), (250L, 6L)], runs);

        runs.Clear();
        BitRuns.ForEach(bitmap, 253, (first, count) => runs.Add((first, count))); // a bit count that cuts the last run
        Assert.Equal((250L, 3L), runs[^1]);
    }
}
