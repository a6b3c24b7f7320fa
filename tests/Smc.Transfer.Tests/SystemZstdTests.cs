using ZstdSharp;

namespace Smc.Transfer.Tests;

/// <summary>
/// The system libzstd (Debian's libzstd1, which this machine and CI have) writes standard zstd: ZstdSharp reads what it
/// writes, and frames sealed with it open like any other.
/// </summary>
public sealed class SystemZstdTests
{
    private static readonly byte[] Key = TestData.Key(0x5a);

    [Fact]
    public void SystemLibrary_IsLoadedHere()
    {
        Assert.True(SystemZstd.IsAvailable, "libzstd.so.1 did not load (apt-get install libzstd1), or SMC_ZSTD=managed is set");
        Assert.InRange(SystemZstd.Version, 10400, 19999);
        Assert.Equal(ZstdLibrary.System, SystemZstd.Preferred);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4096, 1)]
    [InlineData(1 << 20, 1)]
    [InlineData(1 << 20, 19)]
    public void Compress_ManagedDecompressorReadsIt(int length, int level)
    {
        byte[] plain = TestData.Compressible(length);
        byte[] frame = new byte[SystemZstd.CompressBound(length)];
        int written = SystemZstd.Compress(plain, frame, level);

        using var decompressor = new Decompressor();
        Assert.Equal(plain, decompressor.Unwrap(frame.AsSpan(0, written)).ToArray());
        Assert.True(length < 4096 || written < length / 4, $"{length} bytes of text compressed to {written}");
    }

    [Fact]
    public void Decompress_ReadsWhatManagedZstdWrote_AndRefusesGarbage()
    {
        byte[] plain = TestData.Compressible(1 << 20);
        using var compressor = new Compressor(3);
        byte[] frame = compressor.Wrap(plain).ToArray();
        byte[] output = new byte[plain.Length];
        Assert.Equal(plain.Length, SystemZstd.Decompress(frame, output));
        Assert.Equal(plain, output);

        Assert.Throws<InvalidDataException>(() => SystemZstd.Decompress(TestData.Compressible(100), output)); // no zstd magic
        Assert.Throws<InvalidDataException>(() => SystemZstd.Decompress(frame, new byte[1000])); // larger than the room given
    }

    [Fact]
    public void Compress_DestinationTooSmall_ThrowsWithTheLibrarysReason()
    {
        byte[] plain = TestData.Random(4096, seed: 3);
        var e = Assert.Throws<InvalidOperationException>(() => SystemZstd.Compress(plain, new byte[16], 1));
        Assert.Contains("libzstd", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Seal_WithSystemZstd_OpensToThePlaintext(bool compressible)
    {
        const int length = 1 << 20;
        byte[] plain = compressible ? TestData.Compressible(length) : TestData.Random(length, seed: 9);
        var address = new ChunkAddress(TestData.JobId, 2, 0, 5L << 20, length);
        byte[] frame = new byte[ChunkCodec.MaxFrameLength(length)];
        int n = ChunkCodec.Seal(plain, address, Key, 1, frame, ZstdLibrary.System);

        Assert.Equal(compressible ? ChunkCodec.CompressionZstd : ChunkCodec.CompressionNone, frame[ChunkCodec.CompressionOffset]);
        byte[] opened = new byte[length];
        Assert.Equal(length, ChunkCodec.Open(frame.AsSpan(0, n), address, Key, opened));
        Assert.Equal(plain, opened);
    }
}
