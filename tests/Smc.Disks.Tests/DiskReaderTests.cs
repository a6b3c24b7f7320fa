using Smc.Disks.Tests.Support;

namespace Smc.Disks.Tests;

/// <summary>Reads through <see cref="DiskReader"/>: full reads or DiskFormatException.</summary>
public sealed class DiskReaderTests(TempDirFixture fixture) : IClassFixture<TempDirFixture>
{
    private static readonly byte[] Data = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();

    [Fact]
    public void ReadAt_RangeInsideDisk_FillsBuffer()
    {
        using var reader = new DiskReader(new MemoryStream(Data, writable: false));
        var buffer = new byte[100];
        reader.ReadAt(1000, buffer);
        Assert.Equal(Data.AsSpan(1000, 100).ToArray(), buffer);
        Assert.Equal(4096, reader.Length);
        Assert.Equal(8, reader.SectorCount);
        Assert.False(reader.IsBlockDevice);
        Assert.Null(reader.Path);
    }

    [Theory]
    [InlineData(4000, 100)]
    [InlineData(4097, 0)]
    [InlineData(-1, 10)]
    [InlineData(long.MaxValue, 10)]
    public void ReadAt_RangeBeyondDisk_ThrowsTruncated(long offset, int count)
    {
        using var reader = new DiskReader(new MemoryStream(Data, writable: false));
        var e = Assert.Throws<DiskFormatException>(() => reader.ReadAt(offset, new byte[count]));
        Assert.Equal(DiskErrorCodes.Truncated, e.Code);
    }

    [Fact]
    public void Open_ImageFile_ReadsLikeTheFile()
    {
        string path = fixture.Dir.File("data.img");
        File.WriteAllBytes(path, Data);
        using DiskReader reader = DiskReader.Open(path);
        var buffer = new byte[512];
        reader.ReadAt(512, buffer);
        Assert.Equal(Data.AsSpan(512, 512).ToArray(), buffer);
        Assert.Equal(path, reader.Path);
        Assert.Equal(512, reader.SectorSize);
        Assert.False(reader.IsBlockDevice);
    }

    [Fact]
    public void ReadAt_AfterDispose_ThrowsObjectDisposed()
    {
        var reader = new DiskReader(new MemoryStream(Data, writable: false));
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.ReadAt(0, new byte[1]));
    }

    [Fact]
    public void Inspect_StreamWithFourKSectors_UsesThatSectorSize()
    {
        using var reader = new DiskReader(new MemoryStream(new byte[64 * 1024], writable: false), sectorSize: 4096);
        var info = DiskInspector.Inspect(reader, "mem");
        Assert.Equal(4096, info.SectorSize);
        Assert.Equal("none", info.PartitionTable);
        Assert.Empty(info.Parts);
    }
}
