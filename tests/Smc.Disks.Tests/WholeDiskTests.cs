using Smc.Disks.Tests.Support;
using Smc.Wire.Inventory;

namespace Smc.Disks.Tests;

/// <summary>File systems on the whole disk: table <c>none</c>, one partition numbered 0 — including NTFS and FAT, whose boot sectors end in 0x55AA like an MBR.</summary>
public sealed class WholeDiskTests(WholeDiskFixture fixture) : IClassFixture<WholeDiskFixture>
{
    [Theory]
    [InlineData("ext4", "ext4")]
    [InlineData("xfs", "xfs")]
    [InlineData("ntfs", "ntfs")]
    [InlineData("fat32", "vfat")]
    [InlineData("fat16", "vfat")]
    [InlineData("swap", "swap")]
    [InlineData("lvm2", "lvm2")]
    public void Inspect_WholeDiskFileSystem_ReportsPartitionZeroLikeBlkid(string image, string expectedType)
    {
        string path = fixture.Image(image);
        DiskInfo info = DiskInspector.Inspect(path);
        Dictionary<string, string> blkid = Images.Blkid(path);

        Assert.Equal("none", info.PartitionTable);
        Assert.Null(info.DiskId);
        PartitionInfo part = Assert.Single(info.Parts);
        Assert.Equal(0, part.Number);
        Assert.Equal(path, part.Device);
        Assert.Equal(0, part.StartBytes);
        Assert.Equal(new FileInfo(path).Length, part.SizeBytes);
        Assert.True(part.CanBlock);
        Assert.Null(part.TypeId);
        Assert.Equal(expectedType, part.FileSystem);
        Assert.Equal(expectedType, Images.FromBlkidType(blkid["TYPE"]));
        Assert.Equal(blkid["UUID"], part.FileSystemId);
        Assert.Equal(blkid.GetValueOrDefault("LABEL"), part.Label);
    }

    [Fact]
    public void Inspect_WholeDiskExt4_UsedBytesMatchDumpe2fs() =>
        Assert.Equal(Images.ExtUsedBytes(fixture.Image("ext4")), UsedBytes("ext4"));

    [Fact]
    public void Inspect_WholeDiskXfs_UsedBytesMatchXfsDb() =>
        Assert.Equal(Images.XfsUsedBytes(fixture.Image("xfs")), UsedBytes("xfs"));

    [Fact]
    public void Inspect_WholeDiskNtfs_UsedBytesMatchNtfscluster() =>
        Assert.Equal(Images.NtfsUsedBytes(fixture.Image("ntfs")), UsedBytes("ntfs"));

    [Theory]
    [InlineData("fat32")]
    [InlineData("fat16")]
    public void Inspect_WholeDiskFat_UsedBytesMatchFsckVfat(string image) =>
        Assert.Equal(Images.FatUsedBytes(fixture.Image(image)), UsedBytes(image));

    [Fact]
    public void Inspect_ZeroedDisk_ReportsNoTableAndNoPartitions()
    {
        DiskInfo info = DiskInspector.Inspect(fixture.Image("zero"));
        Assert.Equal("none", info.PartitionTable);
        Assert.Empty(info.Parts);
    }

    private long? UsedBytes(string image) => Assert.Single(DiskInspector.Inspect(fixture.Image(image)).Parts).UsedBytes;
}
