using System.Security.Cryptography;

namespace Smc.Transfer.Tests;

public sealed class DataKeysTests(JobKeyFixture keys) : IClassFixture<JobKeyFixture>
{
    [Fact]
    public void NewDataKey_Always_Is32RandomBytes()
    {
        byte[] first = DataKeys.NewDataKey();
        byte[] second = DataKeys.NewDataKey();

        Assert.Equal(32, first.Length);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void NewJobKey_Always_IsRsa3072()
    {
        Assert.Equal(3072, keys.First.KeySize);
    }

    [Fact]
    public void Unwrap_WrappedWithPublicKey_ReturnsTheDataKey()
    {
        byte[] dataKey = DataKeys.NewDataKey();
        using RSA publicOnly = PublicOnly(keys.First);

        string wrapped = DataKeys.Wrap(dataKey, publicOnly);

        Assert.Equal(384, Convert.FromBase64String(wrapped).Length);
        Assert.Equal(dataKey, DataKeys.Unwrap(wrapped, keys.First));
    }

    [Fact]
    public void Wrap_SameKeyTwice_DiffersEachTime()
    {
        byte[] dataKey = DataKeys.NewDataKey();

        Assert.NotEqual(DataKeys.Wrap(dataKey, keys.First), DataKeys.Wrap(dataKey, keys.First));
    }

    [Fact]
    public void Unwrap_OtherKeyPair_ThrowsKeyUnwrapFailed()
    {
        string wrapped = DataKeys.Wrap(DataKeys.NewDataKey(), keys.First);

        var ex = Assert.Throws<ChunkIntegrityException>(() => DataKeys.Unwrap(wrapped, keys.Second));
        Assert.Equal(ChunkErrorCodes.KeyUnwrapFailed, ex.Code);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("")]
    [InlineData("AAAA")]
    public void Unwrap_Garbage_ThrowsKeyUnwrapFailed(string wrapped)
    {
        var ex = Assert.Throws<ChunkIntegrityException>(() => DataKeys.Unwrap(wrapped, keys.First));
        Assert.Equal(ChunkErrorCodes.KeyUnwrapFailed, ex.Code);
    }

    [Fact]
    public void Unwrap_AlteredWrappedKey_ThrowsKeyUnwrapFailed()
    {
        byte[] wrapped = Convert.FromBase64String(DataKeys.Wrap(DataKeys.NewDataKey(), keys.First));
        wrapped[100] ^= 1;

        var ex = Assert.Throws<ChunkIntegrityException>(() => DataKeys.Unwrap(Convert.ToBase64String(wrapped), keys.First));
        Assert.Equal(ChunkErrorCodes.KeyUnwrapFailed, ex.Code);
    }

    [Fact]
    public void Unwrap_WrappedShortSecret_ThrowsKeyUnwrapFailed()
    {
        string wrapped = Convert.ToBase64String(keys.First.Encrypt(new byte[16], RSAEncryptionPadding.OaepSHA256));

        var ex = Assert.Throws<ChunkIntegrityException>(() => DataKeys.Unwrap(wrapped, keys.First));
        Assert.Equal(ChunkErrorCodes.KeyUnwrapFailed, ex.Code);
    }

    [Fact]
    public void Unwrap_PublicKeyOnly_ThrowsKeyUnwrapFailed()
    {
        string wrapped = DataKeys.Wrap(DataKeys.NewDataKey(), keys.First);
        using RSA publicOnly = PublicOnly(keys.First);

        var ex = Assert.Throws<ChunkIntegrityException>(() => DataKeys.Unwrap(wrapped, publicOnly));
        Assert.Equal(ChunkErrorCodes.KeyUnwrapFailed, ex.Code);
    }

    [Fact]
    public void Wrap_WrongKeyLength_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => DataKeys.Wrap(new byte[16], keys.First));
    }

    [Fact]
    public void Fingerprint_PublicAndPrivateForm_AreEqualAndStable()
    {
        using RSA publicOnly = PublicOnly(keys.First);
        string fingerprint = DataKeys.Fingerprint(keys.First);

        Assert.Equal(fingerprint, DataKeys.Fingerprint(publicOnly));
        Assert.Equal(fingerprint, DataKeys.Fingerprint(keys.First));
        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        Assert.NotEqual(fingerprint, DataKeys.Fingerprint(keys.Second));
    }

    [Fact]
    public void Fingerprint_GoldenKey_MatchesCommittedValue()
    {
        using RSA golden = GoldenData.Key();

        Assert.Equal(GoldenData.KeyFingerprint, DataKeys.Fingerprint(golden));
        Assert.Equal(
            Convert.ToHexStringLower(SHA256.HashData(golden.ExportSubjectPublicKeyInfo())),
            DataKeys.Fingerprint(golden));
    }

    [Fact]
    public void Unwrap_GoldenWrappedKey_ReturnsGoldenDataKey()
    {
        using RSA golden = GoldenData.Key();

        Assert.Equal(GoldenData.DataKey(), DataKeys.Unwrap(GoldenData.WrappedDataKey, golden));
    }

    private static RSA PublicOnly(RSA key)
    {
        var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        return rsa;
    }
}
