using Smc.Wire.Staging;

namespace Smc.Transfer.Tests;

public sealed class StagingNamesTests
{
    [Fact]
    public void Container_ValidJobId_PrefixesIt()
    {
        Assert.Equal("smcstg-j-abcdefghijklmnop", StagingNames.Container("j-abcdefghijklmnop"));
        Assert.Equal("smcstg-j-234567zzzzzzzzzz", StagingNames.Container("j-234567zzzzzzzzzz"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("j-")]
    [InlineData("j-abcdefghijklmno")]
    [InlineData("j-abcdefghijklmnopq")]
    [InlineData("J-abcdefghijklmnop")]
    [InlineData("j-ABCDEFGHIJKLMNOP")]
    [InlineData("j-abcdefghijklmno1")]
    [InlineData("j-abcdefghijklmno8")]
    [InlineData("s-abcdefghijklmnop")]
    [InlineData("j_abcdefghijklmnop")]
    [InlineData("j-abcdefghijklm/op")]
    [InlineData("j-abcdefghijklm-op")]
    public void Container_MalformedJobId_ThrowsArgumentException(string jobId)
    {
        Assert.Throws<ArgumentException>(() => StagingNames.Container(jobId));
    }

    [Fact]
    public void Container_NullJobId_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => StagingNames.Container(null!));
    }

    [Theory]
    [InlineData(0, "r000000/")]
    [InlineData(7, "r000007/")]
    [InlineData(123_456, "r123456/")]
    [InlineData(999_999, "r999999/")]
    public void RoundPrefix_ValidRound_IsSixDigits(int round, string expected)
    {
        Assert.Equal(expected, StagingNames.RoundPrefix(round));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_000)]
    [InlineData(int.MaxValue)]
    public void RoundPrefix_OutOfRange_ThrowsArgumentOutOfRange(int round)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StagingNames.RoundPrefix(round));
        Assert.Throws<ArgumentOutOfRangeException>(() => StagingNames.Manifest(round));
        Assert.Throws<ArgumentOutOfRangeException>(() => StagingNames.Commit(round));
    }

    [Fact]
    public void BlobNames_ValidInput_FollowTheLayout()
    {
        Assert.Equal("r000003/packs/0123456789abcdef.pack", StagingNames.Pack(3, "0123456789abcdef"));
        Assert.Equal("r000003/manifest.json", StagingNames.Manifest(3));
        Assert.Equal("r000003/commit.json", StagingNames.Commit(3));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789ABCDEF")]
    [InlineData("0123456789abcde")]
    [InlineData("0123456789abcdef0")]
    [InlineData("../../commit.jso")]
    [InlineData("0123456789abcdeg")]
    public void Pack_MalformedPackId_ThrowsArgumentException(string packId)
    {
        Assert.Throws<ArgumentException>(() => StagingNames.Pack(0, packId));
    }
}
