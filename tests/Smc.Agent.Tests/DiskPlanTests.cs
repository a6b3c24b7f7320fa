using Smc.Agent.Replication;

namespace Smc.Agent.Tests;

public sealed class DiskPlanTests
{
    [Theory]
    [InlineData(1, 1 << 20)]
    [InlineData(2, 1 << 20)]
    [InlineData(3, 64 << 10)]
    [InlineData(4, 64 << 10)]
    public void Coalesce_FragmentedRegions_CutsIntoTheSameChunksFromFewerRegions(int seed, int chunkSize)
    {
        // A fragmented bitmap: thousands of small used extents, unaligned, in three groups (head, two partitions).
        var random = new Random(seed);
        long diskSize = 512L << 20;
        var regions = new List<(int Group, long Start, long Length)> { (-1, 0, 1_075_200) };
        long at = 1_075_200;
        foreach (int group in new[] { 1, 2 })
        {
            long end = group == 1 ? 200L << 20 : diskSize - (1 << 20) - 4096;
            while (at < end)
            {
                long length = Math.Min(end - at, random.Next(1, 16) * 4096L + (random.Next(8) == 0 ? random.Next(1, 4096) : 0));
                regions.Add((group, at, length));
                at += length + random.Next(0, 16) * 4096L;
            }

            at = end;
        }

        List<(int, long, long)> sorted = [.. regions.OrderBy(r => r.Start)];
        List<(int, long, long)> coalesced = DiskPlan.Coalesce(sorted, chunkSize);

        Assert.Equal(DiskPlan.Cut(0, sorted, chunkSize, diskSize), DiskPlan.Cut(0, coalesced, chunkSize, diskSize));
        long cellsTouched = sorted.SelectMany(r => new[] { r.Item2 / chunkSize, (r.Item2 + r.Item3 - 1) / chunkSize }).Distinct().Count();
        Assert.True(coalesced.Count < sorted.Count / 2, $"{coalesced.Count} regions from {sorted.Count}");
        Assert.True(coalesced.Count <= cellsTouched, $"{coalesced.Count} regions for {cellsTouched} cells touched");
    }
}
