namespace Smc.Alibaba.Tests;

/// <summary>
/// Export part sizes: at least 8 MiB, whole MiB, at most OSS's 10,000 parts — computed in <c>long</c>, so a disk past
/// ~19.5 TiB no longer gets a negative part size (it did as an <c>int</c>), and a disk OSS can't hold in one object is
/// refused (null) before any upload.
/// </summary>
public sealed class PartSizeTests
{
    [Theory]
    [InlineData(1L << 30)]
    [InlineData(78L << 30)]
    [InlineData(1L << 40)]
    [InlineData(20L << 40)]
    [InlineData(30L << 40)]
    [InlineData(AlibabaRules.MaxParts * AlibabaRules.MaxPartSize)]
    public void PartSize_CoversTheDiskInAtMostTenThousandWholeMiBParts(long disk)
    {
        long part = AlibabaRules.PartSizeFor(disk)!.Value;
        Assert.True(part >= AlibabaRules.MinPartSize, $"{part}");
        Assert.Equal(0, part % (1 << 20));
        Assert.True((disk + part - 1) / part <= AlibabaRules.MaxParts, $"{disk} in parts of {part}");
        Assert.True(part <= AlibabaRules.MaxPartSize, $"{part}");
    }

    [Fact]
    public void PartSize_PastTwoGiB_ForADiskPastTwentyTiB_AndNoneBeyondOssLimit()
    {
        Assert.True(AlibabaRules.PartSizeFor(20L << 40) > int.MaxValue);
        Assert.Null(AlibabaRules.PartSizeFor((AlibabaRules.MaxParts * AlibabaRules.MaxPartSize) + 1));
    }

    [Theory]
    [InlineData("web 01", "-r3", "web-01-r3")]
    [InlineData("1st", "-r0", "smc-1st-r0")]
    [InlineData("aliyun-box", "-test", "smc-aliyun-box-test")]
    public void ImageName_IsOneEcsAccepts(string name, string suffix, string expected) =>
        Assert.Equal(expected, AlibabaRules.ImageName(name, suffix));

    [Fact]
    public void ImageName_ALongNameKeepsItsSuffixWithin128Characters()
    {
        string made = AlibabaRules.ImageName(new string('a', 200), "-r12-a1");
        Assert.Equal(128, made.Length);
        Assert.EndsWith("-r12-a1", made, StringComparison.Ordinal);
    }
}
