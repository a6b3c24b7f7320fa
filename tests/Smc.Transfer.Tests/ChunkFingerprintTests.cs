using Smc.Transfer;

namespace Smc.Transfer.Tests;

public sealed class ChunkFingerprintTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(0xa0, 32).Select(i => (byte)i)];

    /// <summary>
    /// Expected values made with Debian's b3sum 1.2.0 (the BLAKE3 team's reference tool), not with this code:
    /// <c>b3sum --raw DATA &gt; inner; b3sum --keyed --no-names inner &lt; key</c>, key = bytes 0xa0…0xbf.
    /// </summary>
    [Theory]
    [InlineData(0, "04b3bcdc07b53301ac9b8b5f378e3f863fb0fd17ed7d0caeef60c55b3fcf7a46")]
    [InlineData(1, "3cefeb981fa7ac8b32e82fbd4bdf2329197de084b2f008d0e3000aa436fdd61c")]
    [InlineData(2, "b2778705efee7a7790b69d16bf0ca9fa0dda1bf85983a53eb9652e6e6e7b0d4e")]
    public void Fingerprint_MatchesTheReferenceTool(int input, string expected)
    {
        byte[] data = input switch
        {
            0 => [],
            1 => "abc"u8.ToArray(),
            _ => [.. Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 7 % 251))],
        };

        Assert.Equal(expected, ChunkFingerprint.ComputeHex(Key, data));
    }

    [Fact]
    public void Fingerprint_DependsOnKeyAndContent()
    {
        byte[] data = [.. Enumerable.Range(0, 4096).Select(i => (byte)i)];
        string fingerprint = ChunkFingerprint.ComputeHex(Key, data);
        byte[] otherKey = (byte[])Key.Clone();
        otherKey[31] ^= 1;
        byte[] otherData = (byte[])data.Clone();
        otherData[4000] ^= 0x80;

        Assert.Equal(fingerprint, ChunkFingerprint.ComputeHex(Key, (byte[])data.Clone()));
        Assert.NotEqual(fingerprint, ChunkFingerprint.ComputeHex(otherKey, data));
        Assert.NotEqual(fingerprint, ChunkFingerprint.ComputeHex(Key, otherData));
        Assert.Equal(64, fingerprint.Length);
    }

    [Fact]
    public void Fingerprint_RefusesAKeyOfTheWrongSize() =>
        Assert.Throws<ArgumentException>(() => ChunkFingerprint.ComputeHex(new byte[16], [1, 2, 3]));
}
