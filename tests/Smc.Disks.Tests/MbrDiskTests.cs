using System.Globalization;
using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;

namespace Smc.Disks.Tests;

/// <summary>An MBR image with primary, extended and logical partitions, checked against sfdisk, blkid and the file system tools.</summary>
public sealed class MbrDiskTests(MbrDiskFixture fixture) : IClassFixture<MbrDiskFixture>
{
    private const long Sector = MbrDiskFixture.Sector;

    [Fact]
    public void Inspect_MbrImage_ReportsDiskLikeSfdisk()
    {
        DiskInfo info = fixture.Info;
        Assert.Equal("mbr", info.PartitionTable);
        Assert.Equal("dos", fixture.Table.Label);
        Assert.Equal(fixture.Disk, info.Device);
        Assert.Equal(MbrDiskFixture.DiskSize, info.SizeBytes);
        Assert.Equal(512, info.SectorSize);
        Assert.Equal(fixture.Table.Id, "0x" + info.DiskId);
    }

    [Fact]
    public void Inspect_MbrImage_PartitionsMatchSfdisk()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], fixture.Info.Parts.Select(p => p.Number));
        Assert.Equal(fixture.Table.Partitions.Select(p => p.Number), fixture.Info.Parts.Select(p => p.Number));
        foreach (SfdiskPartition expected in fixture.Table.Partitions)
        {
            PartitionInfo actual = fixture.Part(expected.Number);
            Assert.Equal(expected.Start * Sector, actual.StartBytes);
            Assert.Equal(expected.Size * Sector, actual.SizeBytes);
            Assert.Equal(int.Parse(expected.Type, NumberStyles.HexNumber, CultureInfo.InvariantCulture).ToString("x2"), actual.TypeId);
            Assert.Equal(expected.Bootable, actual.Bootable);
            Assert.Equal($"{fixture.Disk}#{expected.Number}", actual.Device);
            Assert.Null(actual.PartitionGuid);
        }
    }

    [Fact]
    public void Inspect_MbrExtendedPartition_IsContainerWithoutFileSystem()
    {
        PartitionInfo extended = fixture.Part(3);
        Assert.Equal("05", extended.TypeId);
        Assert.Null(extended.FileSystem);
        Assert.Null(extended.UsedBytes);
        Assert.False(extended.CanBlock);
        Assert.All(fixture.Info.Parts.Where(p => p.Number != 3), p => Assert.True(p.CanBlock));
    }

    [Theory]
    [InlineData(1, "ext4")]
    [InlineData(2, "vfat")]
    [InlineData(4, "lvm2")]
    [InlineData(5, "ntfs")]
    [InlineData(6, "swap")]
    [InlineData(7, "ext2")]
    [InlineData(8, "ext3")]
    [InlineData(9, "vfat")]
    public void Inspect_MbrPartition_FileSystemMatchesBlkid(int number, string expectedType)
    {
        PartitionInfo part = fixture.Part(number);
        Dictionary<string, string> blkid = Images.Blkid(fixture.Disk, part.StartBytes, part.SizeBytes);
        Assert.Equal(expectedType, part.FileSystem);
        Assert.Equal(expectedType, Images.FromBlkidType(blkid["TYPE"]));
        Assert.Equal(blkid["UUID"], part.FileSystemId);
        Assert.Equal(blkid.GetValueOrDefault("LABEL"), part.Label);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    public void Inspect_MbrExtPartition_UsedBytesMatchDumpe2fs(int number)
    {
        PartitionInfo part = fixture.Part(number);
        Assert.Equal(Images.ExtUsedBytes(fixture.Disk, part.StartBytes), part.UsedBytes);
    }

    [Fact]
    public void Inspect_MbrExt4WithFiles_UsesMoreThanEmptyExt3()
    {
        // 300 KB of files went into partition 1 (ext4, 8 MiB) and none into partition 8 (ext3, 4 MiB).
        Assert.True(fixture.Part(1).UsedBytes > 300_000);
    }

    [Fact]
    public void Inspect_MbrNtfsLogicalPartition_UsedBytesMatchNtfscluster()
    {
        long expected = Images.NtfsUsedBytes(fixture.NtfsPart);
        Assert.Equal(expected, fixture.Part(5).UsedBytes);
    }

    [Fact]
    public void Inspect_MbrFatPartitions_UsedBytesMatchFsckVfat()
    {
        Assert.Equal(Images.FatUsedBytes(fixture.Fat16Part), fixture.Part(2).UsedBytes);
        Assert.Equal(Images.FatUsedBytes(fixture.Fat12Part), fixture.Part(9).UsedBytes);
    }

    [Fact]
    public void Inspect_MbrSwapAndLvm_HaveNoUsedBytes()
    {
        Assert.Null(fixture.Part(4).UsedBytes);
        Assert.Null(fixture.Part(6).UsedBytes);
        Assert.Equal(LvmLabel.DashedUuid, fixture.Part(4).FileSystemId);
    }

    [Fact]
    public void ReadLayout_MbrImage_KeepsRawEntries()
    {
        using DiskReader reader = DiskReader.Open(fixture.Disk);
        DiskLayout layout = DiskInspector.ReadLayout(reader);
        Assert.Equal(PartitionTableKind.Mbr, layout.Kind);
        Assert.NotNull(layout.Mbr);
        Assert.Equal(0x1234abcdu, layout.Mbr.DiskSignature);
        Assert.Null(layout.GptHeader);
        TablePartition logical = layout.Partitions.Single(p => p.Number == 5);
        Assert.NotNull(logical.MbrEntry);

        // A logical partition's entry is relative to its EBR, which sits in the sectors just before it.
        Assert.InRange(logical.FirstLba - logical.MbrEntry.FirstLba, 51200, 53247);
    }
}
