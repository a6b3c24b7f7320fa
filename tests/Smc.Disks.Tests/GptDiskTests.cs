using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;

namespace Smc.Disks.Tests;

/// <summary>A GPT image with seven partitions, checked against sfdisk --json, blkid and the file system tools.</summary>
public sealed class GptDiskTests(GptDiskFixture fixture) : IClassFixture<GptDiskFixture>
{
    private const long Sector = GptDiskFixture.Sector;

    [Fact]
    public void Inspect_GptImage_ReportsDiskLikeSfdisk()
    {
        Assert.Equal("gpt", fixture.Table.Label);
        Assert.Equal("gpt", fixture.Info.PartitionTable);
        Assert.Equal(GptDiskFixture.DiskSize, fixture.Info.SizeBytes);
        Assert.Equal(fixture.Table.Id.ToLowerInvariant(), fixture.Info.DiskId);
    }

    [Fact]
    public void Inspect_GptImage_PartitionsMatchSfdisk()
    {
        Assert.Equal(7, fixture.Table.Partitions.Count);
        Assert.Equal(fixture.Table.Partitions.Select(p => p.Number), fixture.Info.Parts.Select(p => p.Number));
        foreach (SfdiskPartition expected in fixture.Table.Partitions)
        {
            PartitionInfo actual = fixture.Part(expected.Number);
            Assert.Equal(expected.Start * Sector, actual.StartBytes);
            Assert.Equal(expected.Size * Sector, actual.SizeBytes);
            Assert.Equal(expected.Type.ToLowerInvariant(), actual.TypeId);
            Assert.Equal(expected.Uuid!.ToLowerInvariant(), actual.PartitionGuid);
            Assert.Equal(expected.Attrs?.Contains("LegacyBIOSBootable", StringComparison.Ordinal) ?? false, actual.Bootable);
            Assert.Equal($"{fixture.Disk}#{expected.Number}", actual.Device);
            Assert.True(actual.CanBlock);
            if (expected.Name is not null)
            {
                Assert.Equal(expected.Name, actual.Label);
            }
        }
    }

    [Fact]
    public void Inspect_GptImage_BootableOnlyWhereAttributeSet()
    {
        Assert.Equal([1], fixture.Info.Parts.Where(p => p.Bootable).Select(p => p.Number));
    }

    [Theory]
    [InlineData(1, "ext4")]
    [InlineData(2, "xfs")]
    [InlineData(3, "ntfs")]
    [InlineData(4, "vfat")]
    [InlineData(5, "swap")]
    [InlineData(6, "lvm2")]
    public void Inspect_GptPartition_FileSystemMatchesBlkid(int number, string expectedType)
    {
        PartitionInfo part = fixture.Part(number);
        Dictionary<string, string> blkid = Images.Blkid(fixture.Disk, part.StartBytes, part.SizeBytes);
        Assert.Equal(expectedType, part.FileSystem);
        Assert.Equal(expectedType, Images.FromBlkidType(blkid["TYPE"]));
        Assert.Equal(blkid["UUID"], part.FileSystemId);
    }

    [Fact]
    public void Inspect_GptPartitionWithoutName_TakesFileSystemLabel()
    {
        PartitionInfo swap = fixture.Part(5);
        Assert.Null(fixture.Table.Partitions.Single(p => p.Number == 5).Name);
        Assert.Equal("gpt-swap", swap.Label);
        Assert.Equal(Images.Blkid(fixture.Disk, swap.StartBytes, swap.SizeBytes)["LABEL"], swap.Label);
    }

    [Fact]
    public void Inspect_GptExt4_UsedBytesMatchDumpe2fs()
    {
        PartitionInfo part = fixture.Part(1);
        Assert.Equal(Images.ExtUsedBytes(fixture.Disk, part.StartBytes), part.UsedBytes);
        Assert.True(part.UsedBytes > 300_000);
    }

    [Fact]
    public void Inspect_GptXfs_UsedBytesMatchXfsDb()
    {
        Assert.Equal(Images.XfsUsedBytes(fixture.XfsPart), fixture.Part(2).UsedBytes);
    }

    [Fact]
    public void Inspect_GptNtfs_UsedBytesMatchNtfscluster()
    {
        Assert.Equal(Images.NtfsUsedBytes(fixture.NtfsPart), fixture.Part(3).UsedBytes);
    }

    [Fact]
    public void Inspect_GptFat32_UsedBytesMatchFsckVfat()
    {
        long? used = fixture.Part(4).UsedBytes;
        Assert.Equal(Images.FatUsedBytes(fixture.FatPart), used);
        Assert.True(used > 0); // The FAT32 root directory occupies a cluster.
    }

    [Fact]
    public void Inspect_GptSwapAndLvm_HaveIdsButNoUsedBytes()
    {
        Assert.Null(fixture.Part(5).UsedBytes);
        Assert.Null(fixture.Part(6).UsedBytes);
        Assert.Equal(LvmLabel.DashedUuid, fixture.Part(6).FileSystemId);
    }

    [Fact]
    public void Inspect_GptUnformattedPartition_HasNoFileSystem()
    {
        PartitionInfo part = fixture.Part(7);
        Assert.Null(part.FileSystem);
        Assert.Null(part.UsedBytes);
        Assert.Null(part.FileSystemId);
        Assert.Null(part.Label);
        Assert.True(part.CanBlock);
    }

    [Fact]
    public void ReadLayout_GptImage_UsesPrimaryHeader()
    {
        using DiskReader reader = DiskReader.Open(fixture.Disk);
        DiskLayout layout = DiskInspector.ReadLayout(reader);
        Assert.Equal(PartitionTableKind.Gpt, layout.Kind);
        Assert.False(layout.GptBackupHeaderUsed);
        Assert.Empty(layout.Warnings);
        Assert.NotNull(layout.GptHeader);
        Assert.Equal(1UL, layout.GptHeader.MyLba);
        Assert.Equal((ulong)(reader.SectorCount - 1), layout.GptHeader.AlternateLba);
        Assert.NotNull(layout.Mbr);
        Assert.True(layout.Mbr.IsGptProtective);
    }
}
