using Smc.Agent.Replication;
using Smc.Wire.Staging;

namespace Smc.Agent.Tests;

/// <summary>The round checkpoint: what a killed agent reads back, from a real file.</summary>
public sealed class RoundJournalTests : IDisposable
{
    private readonly TempDir _temp = new("journal");

    private string JournalPath => _temp.File("j-testaaaaaaaaaaaa-r0.journal");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Open_AfterPacksAndUnchangedChunks_CountsThemAndStreamsThemBack()
    {
        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            journal.AddPack([Sent(0, 0, 4096, 100), Sent(0, 1 << 20, 1 << 20, 900)]);
            journal.AddUnchanged([Unchanged(1, 3L << 20, 1 << 20)]);
            journal.AddPack([Sent(1, 5L << 20, 512, 40)]);
        }

        using RoundJournal reopened = RoundJournal.Open(JournalPath, () => throw new InvalidOperationException("the header must be read back"));

        Assert.Equal("j-testaaaaaaaaaaaa", reopened.Header.JobId);
        Assert.Equal("a2V5", reopened.Header.DataKey);
        Assert.Equal(3, reopened.SentChunks);
        Assert.Equal(1, reopened.UnchangedChunks);
        Assert.Equal(1040, reopened.SentStoredBytes);
        Assert.Equal(4096 + (1 << 20), reopened.CoveredBytes(0));
        Assert.Equal((1 << 20) + 512, reopened.CoveredBytes(1));
        Assert.Equal(40, reopened.StoredBytes(1));
        Assert.Null(reopened.CommittedManifestSha256);
        List<ManifestChunk> entries = [.. reopened.Entries()];
        Assert.Equal([0L, 1 << 20, 3L << 20, 5L << 20], entries.Select(c => c.Offset).Order());
        ManifestChunk unchanged = entries.Single(c => c.Offset == 3L << 20);
        Assert.Null(unchanged.Pack);
        Assert.Equal(new string('c', 64), unchanged.Fingerprint);
        Assert.Equal("p-0", entries.Single(c => c.Offset == 0).Pack);
    }

    [Fact]
    public void Open_TornLastLine_DropsItAndKeepsAppendingAfterTheLastWholeLine()
    {
        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            journal.AddPack([Sent(0, 0, 4096, 100)]);
        }

        long whole = new FileInfo(JournalPath).Length;
        File.AppendAllText(JournalPath, "{\"chunks\":[{\"disk\":0,\"offset\":1048576,\"len"); // the crash came mid-append

        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            Assert.Equal(1, journal.SentChunks);
            Assert.Equal(whole, new FileInfo(JournalPath).Length);
            journal.AddPack([Sent(0, 2L << 20, 4096, 70)]);
        }

        using RoundJournal again = RoundJournal.Open(JournalPath, NewHeader);
        Assert.Equal(2, again.SentChunks);
        Assert.Equal([0L, 2L << 20], again.Entries().Select(c => c.Offset));
    }

    [Fact]
    public void Open_LinesWithoutAHeader_StartsTheJournalAgain()
    {
        File.WriteAllText(JournalPath, "{\"chunks\":[{\"disk\":0,\"offset\":0,\"length\":4096,\"pack\":\"p-0\",\"storedLength\":9,\"fingerprint\":\"ab\"}]}\n");
        bool made = false;

        using RoundJournal journal = RoundJournal.Open(JournalPath, () =>
        {
            made = true;
            return NewHeader();
        });

        Assert.True(made);
        Assert.Equal(0, journal.SentChunks);
        Assert.Empty(journal.Entries());
        Assert.Equal("j-testaaaaaaaaaaaa", journal.Header.JobId);
    }

    [Fact]
    public void Open_CommittedRound_RemembersTheManifestHash()
    {
        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            journal.AddPack([Sent(0, 0, 4096, 100)]);
            journal.MarkCommitted(new string('a', 64));
        }

        using RoundJournal reopened = RoundJournal.Open(JournalPath, NewHeader);
        Assert.Equal(new string('a', 64), reopened.CommittedManifestSha256);
        Assert.Equal(1, reopened.SentChunks);
    }

    [Fact]
    public void Open_NewJournal_IsReadableOnlyByItsOwner()
    {
        using RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(JournalPath));
    }

    [Fact]
    public void DoneChunks_PartitionStartingInsideACell_TellsTheTwoChunksOfThatCellApart()
    {
        // GPT, partition 1 from sector 2100 (1,075,200 bytes: inside the second 1 MiB cell) and no file system, so the
        // plan reads the head [0, 1,075,200) and the whole partition: cell 1 holds the head's tail and the partition's start.
        string disk = _temp.File("disk.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(8L << 20);
        }

        Tool.RunWithInput("sfdisk", "label: gpt\nstart=2100, size=6000\n", "-q", disk);
        DiskPlan plan = DiskPlan.Build(0, disk, 1 << 20);
        List<ChunkRange> cell1 = [.. plan.Chunks.Where(c => c.Offset / (1 << 20) == 1)];
        Assert.Equal([new ChunkRange(0, 1 << 20, 1_075_200 - (1 << 20)), new ChunkRange(0, 1_075_200, (2 << 20) - 1_075_200)], cell1);
        Assert.True(plan.IsSharedCell(1));
        Assert.False(plan.IsSharedCell(2));

        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            journal.AddPack([Sent(0, 0, 1 << 20, 10), Sent(0, 1_075_200, cell1[1].Length, 10), Sent(0, 3L << 20, 1 << 20, 10)]);
        }

        using RoundJournal reopened = RoundJournal.Open(JournalPath, NewHeader);
        ChunkSet done = reopened.DoneChunks([plan]);

        Assert.Equal(3, done.Count);
        Assert.True(done.Contains(0, 0));
        Assert.True(done.Contains(0, 1_075_200));
        Assert.False(done.Contains(0, 1 << 20)); // the head's piece of the shared cell was not sent
        Assert.False(done.Contains(0, 2L << 20));
        Assert.True(done.Contains(0, 3L << 20));
    }

    [Fact]
    public void DoneChunks_ChunkBeyondTheDisk_IsIgnored()
    {
        string disk = _temp.File("raw.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(4L << 20);
        }

        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            journal.AddPack([Sent(0, 8L << 20, 1 << 20, 10), Sent(3, 0, 1 << 20, 10), Sent(0, 1L << 20, 1 << 20, 10)]);
        }

        using RoundJournal reopened = RoundJournal.Open(JournalPath, NewHeader);
        ChunkSet done = reopened.DoneChunks([DiskPlan.Build(0, disk, 1 << 20)]);

        Assert.Equal(1, done.Count);
        Assert.True(done.Contains(0, 1L << 20));
    }

    [Fact]
    public void CatchUpPasses_ReplaceWhatEarlierPassesHadWhereTheyRereadOnly_AndCountsFollow()
    {
        const int M = 1 << 20;
        using (RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader))
        {
            // Pass 0: three cells read live; disk 1 has a cell too.
            journal.AddPack([Sent(0, 0, M, 10), Sent(0, 1L * M, M, 20), Sent(0, 2L * M, 4096, 30), Sent(1, 0, M, 40)]);

            // Pass 1 re-reads cell 1 (its piece widened to what was written) and a newly written range in cell 5.
            journal.BeginPass(1, [new ChunkRange(0, 1L * M, M), new ChunkRange(0, (5L * M) + 8192, 4096)]);
            journal.AddPack([Sent(0, 1L * M, M, 21), Sent(0, (5L * M) + 8192, 4096, 50)], pass: 1);

            // Pass 2 (the frozen one) re-reads cell 2 wider than pass 0 read it, and cell 5 again.
            journal.BeginPass(2, [new ChunkRange(0, 2L * M, 65536), new ChunkRange(0, 5L * M, M)]);
            journal.AddPack([Sent(0, 2L * M, 65536, 31), Sent(0, 5L * M, M, 51)], pass: 2);
        }

        using RoundJournal reopened = RoundJournal.Open(JournalPath, () => throw new InvalidOperationException("the header must be read back"));
        Assert.Equal(2, reopened.LastPass);
        List<ManifestChunk> entries = [.. reopened.Entries()];
        Assert.Equal(
            [(0, 0L, M, 10), (0, 1L * M, M, 21), (0, 2L * M, 65536, 31), (0, 5L * M, M, 51), (1, 0L, M, 40)],
            entries.Select(c => (c.Disk, c.Offset, c.Length, c.StoredLength)).OrderBy(c => c.Disk).ThenBy(c => c.Offset));
        (long sent, long stored, long unchanged, Dictionary<int, long> covered) = reopened.Totals();
        Assert.Equal((5L, 10L + 21 + 31 + 51 + 40, 0L), (sent, stored, unchanged));
        Assert.Equal((3L * M) + 65536, covered[0]);

        // A live round resumed by another process re-reads everything: nothing before its pass counts.
        reopened.BeginPass(3, null);
        Assert.Empty(reopened.Entries());
        reopened.AddPack([Sent(0, 0, M, 12)], pass: 3);
        Assert.Equal([0L], reopened.Entries().Select(c => c.Offset));
    }

    [Fact]
    public void CatchUpPasses_ALaterNarrowerRereadIsWidenedOverTheEarlierOne_NoWrittenByteLeavesTheImage()
    {
        const int M = 1 << 20, K = 1024;
        // Cell 1's planned piece is its first 100 KiB. Catch-up 1 read the piece plus a write at 800–900 KiB; catch-up 2
        // the piece plus a write at 4 KiB. The journal keeps only the latest pass where passes overlap.
        ChunkRange piece = new(0, M, 100 * K), first = new(0, M, 900 * K), second = new(0, M, 100 * K);
        List<(long Offset, int Length)> Covered(bool widen)
        {
            File.Delete(JournalPath);
            var reread = new RereadRanges(M);
            using RoundJournal journal = RoundJournal.Open(JournalPath, NewHeader);
            journal.AddPack([Sent(0, piece.Offset, piece.Length, 1)]);
            int pass = 0;
            foreach (ChunkRange r in new[] { first, second })
            {
                List<ChunkRange> read = widen ? reread.Widen([r]) : [r];
                reread.Add(read);
                journal.BeginPass(++pass, read);
                journal.AddPack([.. read.Select(c => Sent(c.Disk, c.Offset, c.Length, 1))], pass);
            }

            return [.. journal.Entries().Select(c => (c.Offset, c.Length))];
        }

        // Unwidened, the first catch-up's write (800–900 KiB) is in no chunk any more; widened, the last pass covers it.
        Assert.Equal([(1L * M, 100 * K)], Covered(widen: false));
        Assert.Equal([(1L * M, 900 * K)], Covered(widen: true));
    }

    [Fact]
    public void RereadRanges_WidenOverEveryOverlappingEarlierRangeOfTheCell_LeaveOthersAlone()
    {
        const int M = 1 << 20;
        var reread = new RereadRanges(M);
        reread.Add([new ChunkRange(0, M, 4096), new ChunkRange(0, M + 8192, 4096), new ChunkRange(0, 3L * M, 512), new ChunkRange(1, M, M)]);

        // Touches the second earlier range, which then touches nothing more; widened to cover it.
        Assert.Equal([new ChunkRange(0, M + 6144, 6144)], reread.Widen([new ChunkRange(0, M + 6144, 4096)]));
        // Spans both: widened over each (transitively).
        Assert.Equal([new ChunkRange(0, M, 12288)], reread.Widen([new ChunkRange(0, M + 2048, 8192)]));
        // Inside an earlier range: widened to all of it.
        Assert.Equal([new ChunkRange(0, M, 4096)], reread.Widen([new ChunkRange(0, M + 512, 512)]));
        // Another cell, another disk, or no overlap: unchanged.
        ChunkRange[] alone = [new ChunkRange(0, 2L * M, 4096), new ChunkRange(0, M + 4096, 4096), new ChunkRange(1, 0, 4096), new ChunkRange(0, 3L * M + 512, 512)];
        Assert.Equal(alone, reread.Widen(alone));
    }

    private static JournalHeader NewHeader() => new()
    {
        JobId = "j-testaaaaaaaaaaaa",
        DataKey = "a2V5",
        WrappedDataKey = "d3JhcHBlZA==",
        KeyFingerprint = "f",
        ChunkSize = 1 << 20,
    };

    private static ManifestChunk Sent(int disk, long offset, int length, int stored) => new()
    {
        Disk = disk,
        Offset = offset,
        Length = length,
        Pack = $"p-{disk}",
        Position = 0,
        StoredLength = stored,
        Fingerprint = new string('b', 64),
    };

    private static ManifestChunk Unchanged(int disk, long offset, int length) => new()
    {
        Disk = disk,
        Offset = offset,
        Length = length,
        Fingerprint = new string('c', 64),
    };
}
