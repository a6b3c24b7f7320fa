using Smc.Core.Services;

namespace Smc.Core.Tests;

/// <summary>
/// Export part sizes: at least 8 MiB, whole MiB, at most OSS's 10,000 parts — computed in <c>long</c>, so a disk past
/// ~19.5 TiB no longer gets a negative part size (it did as an <c>int</c>), and a disk OSS can't hold in one object is
/// caught before any upload.
/// </summary>
public sealed class ExportPartSizeTests
{
    [Theory]
    [InlineData(1L << 30)]
    [InlineData(78L << 30)]
    [InlineData(1L << 40)]
    [InlineData(20L << 40)]
    [InlineData(30L << 40)]
    [InlineData(ExportSteps.MaxParts * ExportSteps.MaxPartSize)]
    public void PartSize_CoversTheDiskInAtMostTenThousandWholeMiBParts(long disk)
    {
        long part = ExportSteps.PartSizeFor(disk);
        Assert.True(part >= ExportSteps.MinPartSize, $"{part}");
        Assert.Equal(0, part % (1 << 20));
        Assert.True((disk + part - 1) / part <= ExportSteps.MaxParts, $"{disk} in parts of {part}");
        Assert.True(part <= ExportSteps.MaxPartSize, $"{part}");
    }

    [Fact]
    public void PartSize_PastTwoGiB_ForADiskPastTwentyTiB_AndPastOssMaxBeyondItsLimit()
    {
        Assert.True(ExportSteps.PartSizeFor(20L << 40) > int.MaxValue);
        Assert.True(ExportSteps.PartSizeFor((ExportSteps.MaxParts * ExportSteps.MaxPartSize) + 1) > ExportSteps.MaxPartSize);
    }
}
