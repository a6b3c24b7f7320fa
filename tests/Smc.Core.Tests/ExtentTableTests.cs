using Smc.Core.Images;

namespace Smc.Core.Tests;

/// <summary>A disk map streamed through a local extent table (issue 20): what a disk read finds where.</summary>
public sealed class ExtentTableTests
{
    [Fact]
    public async Task Load_StreamedMap_FindsWhatABruteForceSearchFinds()
    {
        // Extents with gaps between some of them, and a map with keys and an overlay that must survive the round trip.
        var random = new Random(7);
        var extents = new List<ImageExtent>();
        long at = 4096;
        for (int i = 0; i < 5000; i++)
        {
            int length = 512 * random.Next(1, 9);
            extents.Add(new ImageExtent(at, 1 + (i % 3), at + 7, length, $"{i:x16}", i * 100L, length / 2));
            at += length + (random.Next(3) == 0 ? 512 * random.Next(1, 4) : 0);
        }

        var head = new ImageDiskMap { JobId = "j-abcdefghijklmnop", Disk = 1, SizeBytes = at + 4096, Keys = { [1] = "k1", [2] = "k2" }, Overlays = [new ImageOverlay(0, [1, 2, 3])] };
        using var document = new MemoryStream();
        ImageDiskMap.Write(document, head, extents);
        document.Position = 0;

        (ImageDiskMap loaded, ExtentTable table) = await ExtentTable.LoadAsync(document, CancellationToken.None);
        using (table)
        {
            Assert.Equal((head.JobId, head.Disk, head.SizeBytes, 2, 3), (loaded.JobId, loaded.Disk, loaded.SizeBytes, loaded.Keys.Count, loaded.Overlays.Single().Bytes.Length));
            Assert.Empty(loaded.Extents);
            Assert.Equal(extents.Count, table.Count);
            Assert.Equal(extents.Max(e => Math.Max(e.Length, e.StoredLength)), table.Largest);
            Assert.Equal(extents[4321], table[4321].ToExtent());

            // In order (the stepping path) and at random (the binary search), the same answers as a linear search.
            IEnumerable<long> probes = Enumerable.Range(0, 20_000).Select(i => (long)i * 256)
                .Concat(Enumerable.Range(0, 5000).Select(_ => random.NextInt64(0, at + 4096)));
            foreach (long p in probes)
            {
                int hit = extents.FindIndex(e => e.Destination <= p && p < e.End);
                int next = extents.FindIndex(e => e.Destination > p);
                long expected = hit >= 0 ? hit : ~(long)(next < 0 ? extents.Count : next);
                Assert.True(expected == table.Find(p), $"at {p}: expected {expected}, found {table.Find(p)}");
            }
        }
    }

    [Fact]
    public async Task Load_ExtentsOutOfOrder_Refused()
    {
        var head = new ImageDiskMap { JobId = "j-abcdefghijklmnop", SizeBytes = 1 << 20 };
        using var document = new MemoryStream();
        ImageDiskMap.Write(document, head, [new ImageExtent(4096, 1, 0, 512, "00000000000000aa", 0, 100), new ImageExtent(0, 1, 0, 512, "00000000000000aa", 0, 100)]);
        document.Position = 0;

        await Assert.ThrowsAsync<InvalidDataException>(() => ExtentTable.LoadAsync(document, CancellationToken.None));
    }
}
