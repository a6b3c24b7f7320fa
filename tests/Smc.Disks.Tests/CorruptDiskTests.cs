using System.Buffers.Binary;
using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;

namespace Smc.Disks.Tests;

/// <summary>Damaged and truncated partition tables, file systems and files.</summary>
public sealed class CorruptDiskTests(CorruptDiskFixture fixture) : IClassFixture<CorruptDiskFixture>
{
    private const long Sector = CorruptDiskFixture.Sector;

    [Fact]
    public void Inspect_GptPrimaryHeaderCorrupt_UsesBackupLikeSfdisk()
    {
        string disk = fixture.Copy(fixture.Gpt);
        CorruptDiskFixture.Patch(disk, Sector + 60, 0xFF); // inside the disk GUID: the header CRC no longer matches

        DiskInfo info = DiskInspector.Inspect(disk);
        SfdiskTable table = SfdiskTable.Read(disk); // sfdisk also falls back to the backup header

        Assert.Equal("gpt", info.PartitionTable);
        Assert.Equal(table.Id.ToLowerInvariant(), info.DiskId);
        Assert.Equal(table.Partitions.Select(p => (p.Number, p.Start * Sector, p.Size * Sector, p.Uuid!.ToLowerInvariant(), p.Name)),
            info.Parts.Select(p => (p.Number, p.StartBytes, p.SizeBytes, p.PartitionGuid!, p.Label)));
        Assert.Equal(["one", "two", "three"], info.Parts.Select(p => p.Label));

        using DiskReader reader = DiskReader.Open(disk);
        DiskLayout layout = DiskInspector.ReadLayout(reader);
        Assert.True(layout.GptBackupHeaderUsed);
        Assert.Equal((ulong)(reader.SectorCount - 1), layout.GptHeader!.MyLba);
        Assert.Contains(layout.Warnings, w => w.Contains("CRC32", StringComparison.Ordinal));
    }

    [Fact]
    public void Inspect_GptPrimaryEntriesCorrupt_UsesBackupEntries()
    {
        string disk = fixture.Copy(fixture.Gpt);
        CorruptDiskFixture.Patch(disk, (2 * Sector) + 56, (byte)'X'); // first letter of entry 1's name

        using DiskReader reader = DiskReader.Open(disk);
        DiskLayout layout = DiskInspector.ReadLayout(reader);
        Assert.True(layout.GptBackupHeaderUsed);
        Assert.Equal("one", layout.Partitions[0].Name);
    }

    [Fact]
    public void Inspect_GptBothHeadersCorrupt_ThrowsInvalidGpt()
    {
        string disk = fixture.Copy(fixture.Gpt);
        long lastLba = (new FileInfo(disk).Length / Sector) - 1;
        CorruptDiskFixture.Patch(disk, Sector + 60, 0xFF);
        CorruptDiskFixture.Patch(disk, (lastLba * Sector) + 60, 0xFF);

        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.InvalidGpt, e.Code);
        Assert.Equal("InvalidPartitionTable.Gpt", e.Code);
    }

    [Fact]
    public void Inspect_GptEntryOutsideUsableRange_ThrowsInvalidGpt()
    {
        string disk = fixture.Copy(fixture.Gpt);
        using (var file = new FileStream(disk, FileMode.Open, FileAccess.ReadWrite))
        {
            long lastLba = (file.Length / Sector) - 1;
            foreach (long headerLba in new[] { 1, lastLba })
            {
                // Rewrite entry 3 to end past the last usable LBA, with valid CRCs, in both copies of the table.
                byte[] sector = Read(file, headerLba * Sector, (int)Sector);
                GptHeader header = GptHeader.ReadFrom(sector);
                byte[] entries = Read(file, (long)header.PartitionEntryLba * Sector, (int)(header.PartitionEntryCount * header.PartitionEntrySize));
                Span<byte> third = entries.AsSpan(2 * (int)header.PartitionEntrySize, (int)header.PartitionEntrySize);
                BinaryPrimitives.WriteUInt64LittleEndian(third[GptPartitionEntry.LastLbaOffset..], header.LastUsableLba + 10);
                Write(file, (long)header.PartitionEntryLba * Sector, entries);
                var patched = new GptHeader
                {
                    MyLba = header.MyLba,
                    AlternateLba = header.AlternateLba,
                    FirstUsableLba = header.FirstUsableLba,
                    LastUsableLba = header.LastUsableLba,
                    DiskGuid = header.DiskGuid,
                    PartitionEntryLba = header.PartitionEntryLba,
                    PartitionEntryCount = header.PartitionEntryCount,
                    PartitionEntrySize = header.PartitionEntrySize,
                    PartitionEntryArrayCrc32 = GptHeader.ComputeEntryArrayCrc32(entries),
                };
                patched.WriteTo(sector);
                Write(file, headerLba * Sector, sector);
            }
        }

        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.InvalidGpt, e.Code);
    }

    [Fact]
    public void Inspect_GptTruncated_ThrowsTruncated()
    {
        string disk = fixture.Copy(fixture.Gpt, length: 64 * 1024);
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.Truncated, e.Code);
        Assert.Equal("DiskRead.Truncated", e.Code);
    }

    [Fact]
    public void Inspect_MbrTruncated_ThrowsTruncated()
    {
        string disk = fixture.Copy(fixture.Mbr, length: 3 * Images.MiB);
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.Truncated, e.Code);
    }

    [Fact]
    public void Inspect_MbrInvalidStatusByte_ThrowsInvalidMbr()
    {
        string disk = fixture.Copy(fixture.Mbr);
        CorruptDiskFixture.Patch(disk, MasterBootRecord.PartitionTableOffset, 0x12);
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.InvalidMbr, e.Code);
        Assert.Equal("InvalidPartitionTable.Mbr", e.Code);
    }

    [Fact]
    public void Inspect_MbrPartitionAtLbaZero_ThrowsInvalidMbr()
    {
        string disk = fixture.Copy(fixture.Mbr);
        CorruptDiskFixture.Patch(disk, MasterBootRecord.PartitionTableOffset + 8, 0, 0, 0, 0);
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.InvalidMbr, e.Code);
    }

    [Fact]
    public void Inspect_EbrChainLoop_ThrowsInvalidMbrWithoutHanging()
    {
        string disk = fixture.Copy(fixture.Mbr);
        long secondEbr = SecondEbrLba(disk);

        // Point the second EBR's link back at the first EBR (relative LBA 0 = the extended partition's start).
        var link = MbrPartitionEntry.Create(MbrPartitionEntry.TypeExtendedChs, 0, 2048);
        var bytes = new byte[MbrPartitionEntry.Size];
        link.WriteTo(bytes);
        CorruptDiskFixture.Patch(disk, (secondEbr * Sector) + MasterBootRecord.PartitionTableOffset + MbrPartitionEntry.Size, bytes);

        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.InvalidMbr, e.Code);
        Assert.Contains("loops", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_EbrLinkOutsideExtended_ThrowsInvalidMbr()
    {
        string disk = fixture.Copy(fixture.Mbr);
        long linkFirstLba = (CorruptDiskFixture.ExtendedStartLba * Sector) + MasterBootRecord.PartitionTableOffset + MbrPartitionEntry.Size + 8;
        CorruptDiskFixture.Patch(disk, linkFirstLba, 0x00, 0x00, 0x01, 0x00); // 65536 sectors past the extended start
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.InvalidMbr, e.Code);
    }

    [Fact]
    public void Inspect_CorruptExtSuperblock_ReportsPartitionWithoutFileSystem()
    {
        string disk = fixture.Copy(fixture.Mbr);
        DiskInfo before = DiskInspector.Inspect(disk);
        Assert.Equal("ext2", before.Parts.Single(p => p.Number == 1).FileSystem);

        CorruptDiskFixture.Patch(disk, (2048 * Sector) + 1024 + 24, 0xFF); // s_log_block_size = 255
        DiskInfo after = DiskInspector.Inspect(disk);

        PartitionInfo damaged = after.Parts.Single(p => p.Number == 1);
        Assert.Null(damaged.FileSystem);
        Assert.Null(damaged.UsedBytes);
        Assert.True(damaged.CanBlock);
        Assert.Equal("vfat", after.Parts.Single(p => p.Number == 5).FileSystem);
        Assert.Equal("SMALLFAT", after.Parts.Single(p => p.Number == 5).Label);
    }

    [Fact]
    public void Inspect_NtfsBitmapRecordTorn_ReportsNtfsWithoutUsedBytes()
    {
        string disk = fixture.Copy(fixture.Ntfs);
        byte[] boot = CorruptDiskFixture.ReadBytes(disk, 0, 512);
        long clusterSize = BinaryPrimitives.ReadUInt16LittleEndian(boot.AsSpan(0x0B)) * boot[0x0D];
        long mftLcn = BinaryPrimitives.ReadInt64LittleEndian(boot.AsSpan(0x30));
        long bitmapRecord = (mftLcn * clusterSize) + (6 * 1024);
        Assert.Equal("FILE"u8.ToArray(), CorruptDiskFixture.ReadBytes(disk, bitmapRecord, 4));
        Assert.NotNull(Assert.Single(DiskInspector.Inspect(disk).Parts).UsedBytes);

        byte[] usn = CorruptDiskFixture.ReadBytes(disk, bitmapRecord + 510, 2);
        CorruptDiskFixture.Patch(disk, bitmapRecord + 510, (byte)~usn[0], usn[1]); // the fixup no longer matches: a torn write

        PartitionInfo part = Assert.Single(DiskInspector.Inspect(disk).Parts);
        Assert.Equal("ntfs", part.FileSystem);
        Assert.Null(part.UsedBytes);
        Assert.Equal(Images.Blkid(disk)["UUID"], part.FileSystemId);
    }

    [Fact]
    public void Inspect_TinyFile_ThrowsTruncated()
    {
        string disk = fixture.Copy(fixture.Mbr, length: 100);
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.Truncated, e.Code);
    }

    [Fact]
    public void Inspect_EmptyFile_ThrowsTruncated()
    {
        string disk = fixture.Copy(fixture.Mbr, length: 0);
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(disk));
        Assert.Equal(DiskErrorCodes.Truncated, e.Code);
    }

    [Fact]
    public void Inspect_MissingFile_ThrowsIo()
    {
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(fixture.Dir.File("does-not-exist.img")));
        Assert.Equal(DiskErrorCodes.Io, e.Code);
        Assert.Equal("DiskRead.Io", e.Code);
    }

    [Fact]
    public void Inspect_Directory_ThrowsIo()
    {
        var e = Assert.Throws<DiskFormatException>(() => DiskInspector.Inspect(fixture.Dir.Path));
        Assert.Equal(DiskErrorCodes.Io, e.Code);
    }

    /// <summary>The LBA of the second EBR, from the link entry of the first one.</summary>
    private static long SecondEbrLba(string disk)
    {
        byte[] ebr = CorruptDiskFixture.ReadBytes(disk, CorruptDiskFixture.ExtendedStartLba * Sector, 512);
        var link = MbrPartitionEntry.ReadFrom(ebr.AsSpan(MasterBootRecord.PartitionTableOffset + MbrPartitionEntry.Size));
        Assert.True(link.IsExtended);
        return CorruptDiskFixture.ExtendedStartLba + link.FirstLba;
    }

    private static byte[] Read(FileStream file, long offset, int count)
    {
        var buffer = new byte[count];
        file.Position = offset;
        file.ReadExactly(buffer);
        return buffer;
    }

    private static void Write(FileStream file, long offset, byte[] data)
    {
        file.Position = offset;
        file.Write(data);
    }
}
