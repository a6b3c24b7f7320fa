namespace Smc.Transfer.Tests;

public sealed class ChunkCodecTests
{
    private static readonly byte[] Key = TestData.Key(0x42);

    public static TheoryData<int, bool, int> RoundTripCases()
    {
        var cases = new TheoryData<int, bool, int>();
        foreach (int length in new[] { 1, 2, 57, 58, 4096, 65_537, 1 << 20 })
        {
            foreach (bool compressible in new[] { true, false })
            {
                foreach (int level in new[] { 0, 1, 19 })
                {
                    cases.Add(length, compressible, level);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Open_SealedFrame_ReturnsThePlaintext(int length, bool compressible, int level)
    {
        byte[] plain = compressible ? TestData.Compressible(length) : TestData.Random(length, seed: length);
        var address = new ChunkAddress(TestData.JobId, 3, 1, 7L << 20, length);

        byte[] frame = TestData.Seal(plain, address, Key, level);
        byte[] opened = new byte[length];

        Assert.Equal(length, ChunkCodec.Open(frame, address, Key, opened));
        Assert.Equal(plain, opened);
        Assert.InRange(frame.Length, ChunkCodec.HeaderSize + 1, ChunkCodec.MaxFrameLength(length));
    }

    [Fact]
    public void Seal_CompressibleAtLevel1_StoresZstdAndShrinks()
    {
        byte[] plain = TestData.Compressible(1 << 20);
        byte[] frame = TestData.Seal(plain, Address(plain.Length), Key, 1);

        Assert.Equal(ChunkCodec.CompressionZstd, frame[ChunkCodec.CompressionOffset]);
        Assert.True(frame.Length < plain.Length / 4, $"frame {frame.Length} bytes");
    }

    [Fact]
    public void Seal_IncompressibleAtLevel1_StoresUncompressed()
    {
        byte[] plain = TestData.Random(1 << 20, seed: 1);
        byte[] frame = TestData.Seal(plain, Address(plain.Length), Key, 1);

        Assert.Equal(ChunkCodec.CompressionNone, frame[ChunkCodec.CompressionOffset]);
        Assert.Equal(ChunkCodec.MaxFrameLength(plain.Length), frame.Length);
    }

    [Fact]
    public void Seal_Level0_NeverCompresses()
    {
        byte[] plain = new byte[1 << 20];
        byte[] frame = TestData.Seal(plain, Address(plain.Length), Key, 0);

        Assert.Equal(ChunkCodec.CompressionNone, frame[ChunkCodec.CompressionOffset]);
        Assert.Equal(ChunkCodec.HeaderSize + plain.Length, frame.Length);
    }

    [Fact]
    public void Seal_OneByte_StoresUncompressed()
    {
        byte[] frame = TestData.Seal([0x61], Address(1), Key, 22);

        Assert.Equal(ChunkCodec.CompressionNone, frame[ChunkCodec.CompressionOffset]);
        Assert.Equal(ChunkCodec.HeaderSize + 1, frame.Length);
    }

    [Fact]
    public void Seal_SameInputTwice_UsesFreshNonces()
    {
        byte[] plain = TestData.Compressible(4096);
        byte[] first = TestData.Seal(plain, Address(plain.Length), Key);
        byte[] second = TestData.Seal(plain, Address(plain.Length), Key);

        Assert.NotEqual(first.AsSpan(ChunkCodec.NonceOffset, 12).ToArray(), second.AsSpan(ChunkCodec.NonceOffset, 12).ToArray());
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Seal_ManyThreads_RoundTripsEverywhere()
    {
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            byte[] plain = i % 2 == 0 ? TestData.Compressible(70_000 + i) : TestData.Random(70_000 + i, i);
            var address = new ChunkAddress(TestData.JobId, i, i % 3, i * 4096L, plain.Length);
            byte[] frame = TestData.Seal(plain, address, Key, 1 + (i % 5));
            byte[] opened = new byte[plain.Length];
            ChunkCodec.Open(frame, address, Key, opened);
            Assert.Equal(plain, opened);
        });
    }

    [Fact]
    public void Open_LargerPlainBuffer_WritesOnlyTheChunk()
    {
        byte[] plain = TestData.Compressible(1000);
        byte[] frame = TestData.Seal(plain, Address(plain.Length), Key);
        byte[] opened = new byte[2000];
        opened.AsSpan().Fill(0xee);

        Assert.Equal(1000, ChunkCodec.Open(frame, Address(plain.Length), Key, opened));
        Assert.Equal(plain, opened[..1000]);
        Assert.All(opened[1000..], b => Assert.Equal(0xee, b));
    }

    [Fact]
    public void MaxFrameLength_Always_IsHeaderPlusPlain()
    {
        Assert.Equal(58, ChunkCodec.HeaderSize);
        Assert.Equal(58 + (1 << 20), ChunkCodec.MaxFrameLength(1 << 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.MaxFrameLength(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.MaxFrameLength(ChunkCodec.MaxPlainLength + 1));
    }

    [Fact]
    public void Seal_BadArguments_ThrowArgumentExceptions()
    {
        byte[] plain = new byte[100];
        byte[] frame = new byte[ChunkCodec.MaxFrameLength(100)];

        Assert.Throws<ArgumentException>(() => ChunkCodec.Seal(plain, Address(99), Key, 1, frame));
        Assert.Throws<ArgumentException>(() => ChunkCodec.Seal(plain, Address(100), new byte[16], 1, frame));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.Seal(plain, Address(100), Key, -1, frame));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.Seal(plain, Address(100), Key, 23, frame));
        Assert.Throws<ArgumentException>(() => ChunkCodec.Seal(plain, Address(100), Key, 1, new byte[157]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.Seal(plain, Address(100) with { Disk = 65_536 }, Key, 1, frame));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.Seal(plain, Address(100) with { Round = -1 }, Key, 1, frame));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.Seal(plain, Address(100) with { Offset = -1 }, Key, 1, frame));
        Assert.Throws<ArgumentException>(() => ChunkCodec.Seal(plain, Address(100) with { JobId = "" }, Key, 1, frame));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkCodec.Seal([], Address(100) with { Length = 0 }, Key, 1, frame));
    }

    [Fact]
    public void Open_PlainBufferTooSmall_ThrowsArgumentException()
    {
        byte[] plain = TestData.Compressible(100);
        byte[] frame = TestData.Seal(plain, Address(100), Key);

        Assert.Throws<ArgumentException>(() => ChunkCodec.Open(frame, Address(100), Key, new byte[99]));
    }

    private static ChunkAddress Address(int length) => new(TestData.JobId, 0, 0, 0, length);
}
