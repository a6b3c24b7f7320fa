using System.Runtime.CompilerServices;
using Smc.Core.Services;
using Smc.Wire.Staging;

namespace Smc.Core.Tests;

/// <summary>The local-file chunk records a round is assembled from (issue 20: a round's size costs disk, not memory).</summary>
public sealed class ChunkIndexTests
{
    [Fact]
    public void ChunkRecord_IsTheFixedSizeTheFilesAssume()
    {
        Assert.Equal(ChunkRecord.Size, Unsafe.SizeOf<ChunkRecord>());
    }

    [Fact]
    public void Sorted_SeveralSpilledRunsInRandomOrder_ComeBackByDiskThenOffset()
    {
        int count = (RecordSorter<ChunkRecord>.RunRecords * 3) + 17;
        var random = new Random(20);
        List<(int Disk, long Offset)> keys = [.. Enumerable.Range(0, count).Select(i => (i % 3, (long)i << 20)).OrderBy(_ => random.Next())];
        using var sorter = new RecordSorter<ChunkRecord>(ChunkRecord.Compare);
        foreach ((int disk, long offset) in keys)
        {
            sorter.Add(new ChunkRecord { Disk = disk, Offset = offset, Length = 512, Position = offset + disk });
        }

        List<ChunkRecord> sorted = [.. sorter.Sorted()];

        Assert.Equal(keys.OrderBy(k => k.Disk).ThenBy(k => k.Offset), sorted.Select(r => (r.Disk, r.Offset)));
        Assert.All(sorted, r => Assert.Equal(r.Offset + r.Disk, r.Position));
    }

    [Fact]
    public void RecordFile_LeavesNoNameInTheTempDirectory()
    {
        int Files() => Directory.GetFiles(Path.GetTempPath(), "smc-records-*").Length;
        int before = Files();
        using var file = new RecordFile<ChunkRecord>();
        file.Append(new ChunkRecord { Offset = 7 });
        file.Seal();

        Assert.Equal(before, Files());
        Assert.Equal(7, file.Read(0).Offset);
    }

    [Fact]
    public void Index_SentSlicesOverlapsAndTotals_MatchTheChunksAdded()
    {
        // Disk 0: a chunk every 64 KiB, every third unchanged; disk 2: a few sent chunks.
        List<ChunkRecord> chunks = [.. Enumerable.Range(0, 10_000).Select(i => Chunk(0, (long)i << 16, 4096 * (1 + (i % 4)), sent: i % 3 != 0)),
            .. Enumerable.Range(0, 5).Select(i => Chunk(2, (long)i << 20, 1 << 20, sent: true))];
        using var index = new ChunkIndex();
        chunks.ForEach(c => index.Add(c));
        index.Seal();
        List<ChunkRecord> sent0 = [.. chunks.Where(c => c.Disk == 0 && c.Sent)];

        Assert.Equal([0, 2], index.Disks);
        Assert.Equal(chunks.Where(c => c.Disk == 0).Sum(c => (long)c.Length), index.Totals(0).Bytes);
        Assert.Equal(sent0.Sum(c => (long)c.Length), index.Totals(0).SentBytes);
        Assert.Equal(0, index.Totals(1).Sent);
        var slice = new ChunkRecord[123];
        index.Sent(0, 4000, slice);
        Assert.Equal(sent0.Skip(4000).Take(123).Select(c => c.Offset), slice.Select(c => c.Offset));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Sent(0, sent0.Count - 1, new ChunkRecord[2]));
        foreach ((long offset, long length) in new[] { (0L, 1L), (100_000L, 300_000L), (655_360_000L - 10, 10L), (1L << 40, 5L) })
        {
            Assert.Equal(
                sent0.Where(c => c.Offset < offset + length && c.Offset + c.Length > offset).Select(c => c.Offset),
                index.SentOverlapping(0, offset, length).Select(c => c.Offset));
        }
    }

    [Theory]
    [InlineData("0123456789abcdef", "ab", false)]
    [InlineData("0123456789ABCDEF", null, false)]
    [InlineData("0123456789abcde", null, false)]
    [InlineData("0123456789abcdef", null, true)]
    public void TryFrom_PackIdAndFingerprint_OnlyWhatTheFormatAllows(string pack, string? fingerprintPrefix, bool ok)
    {
        string fingerprint = (fingerprintPrefix ?? "").PadRight(64, 'e');
        if (fingerprintPrefix == "ab")
        {
            fingerprint = fingerprint.ToUpperInvariant();
        }

        bool parsed = ChunkRecord.TryFrom(new ManifestChunk { Pack = pack, Fingerprint = fingerprint }, out ChunkRecord record);

        Assert.Equal(ok, parsed);
        if (ok)
        {
            Assert.Equal((pack, fingerprint), (record.PackId, record.FingerprintHex));
        }
    }

    private static ChunkRecord Chunk(int disk, long offset, int length, bool sent)
    {
        ChunkRecord.TryFrom(new ManifestChunk { Disk = disk, Offset = offset, Length = length, Pack = sent ? "00000000000000aa" : null, Position = offset, StoredLength = length, Fingerprint = new string('0', 64) }, out ChunkRecord r);
        return r;
    }
}
