using Smc.Wire.Staging;

namespace Smc.Transfer.Tests;

public sealed class PackTests
{
    private static readonly byte[] Key = TestData.Key(0x33);

    [Fact]
    public void TryAdd_Frames_ReadBackAtReportedPositions()
    {
        var builder = new PackBuilder();
        var frames = new List<(ChunkAddress Address, byte[] Plain, byte[] Frame, long Position)>();
        for (int i = 0; i < 10; i++)
        {
            byte[] plain = i % 2 == 0 ? TestData.Compressible(10_000 + i) : TestData.Random(5_000 + i, i);
            var address = new ChunkAddress(TestData.JobId, 1, 0, i * (1L << 20), plain.Length);
            byte[] frame = TestData.Seal(plain, address, Key);
            Assert.True(builder.TryAdd(frame, out long position));
            frames.Add((address, plain, frame, position));
        }

        Assert.Equal(10, builder.Count);
        Assert.Equal(frames.Sum(f => (long)f.Frame.Length), builder.Length);
        Assert.Equal(0, frames[0].Position);
        ReadOnlySpan<byte> pack = builder.Content.Span;
        Assert.Equal(builder.Length, pack.Length);
        foreach (var (address, plain, frame, position) in frames)
        {
            ReadOnlySpan<byte> stored = PackReader.Frame(pack, position, frame.Length);
            Assert.True(stored.SequenceEqual(frame));
            byte[] opened = new byte[address.Length];
            ChunkCodec.Open(stored, address, Key, opened);
            Assert.Equal(plain, opened);
        }
    }

    [Fact]
    public void TryAdd_PastTarget_ReturnsFalseAndKeepsThePack()
    {
        var builder = new PackBuilder(targetBytes: 1000);
        Assert.True(builder.TryAdd(new byte[600], out long first));
        Assert.True(builder.TryAdd(new byte[400], out long second));

        Assert.False(builder.TryAdd(new byte[1], out _));
        Assert.Equal((0L, 600L), (first, second));
        Assert.Equal(2, builder.Count);
        Assert.Equal(1000, builder.Length);
    }

    [Fact]
    public void TryAdd_OversizedFrameIntoEmptyPack_IsAccepted()
    {
        var builder = new PackBuilder(targetBytes: 100);
        byte[] frame = TestData.Random(5000, 1);

        Assert.True(builder.TryAdd(frame, out long position));
        Assert.Equal(0, position);
        Assert.Equal(frame, builder.Content.ToArray());
        Assert.False(builder.TryAdd(new byte[1], out _));
    }

    [Fact]
    public void Reset_AfterFrames_EmptiesThePack()
    {
        var builder = new PackBuilder(targetBytes: 100);
        builder.TryAdd(new byte[80], out _);

        builder.Reset();

        Assert.Equal(0, builder.Count);
        Assert.Equal(0, builder.Length);
        Assert.True(builder.Content.IsEmpty);
        Assert.True(builder.TryAdd(new byte[90], out long position));
        Assert.Equal(0, position);
    }

    [Fact]
    public void PackBuilder_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PackBuilder(0));
        Assert.Throws<ArgumentException>(() => new PackBuilder().TryAdd([], out _));
    }

    [Theory]
    [InlineData(-1, 58)]
    [InlineData(0, 57)]
    [InlineData(0, 0)]
    [InlineData(0, -5)]
    [InlineData(43, 58)]
    [InlineData(100, 58)]
    [InlineData(long.MaxValue, 58)]
    [InlineData(0, int.MaxValue)]
    public void Frame_OutOfBounds_ThrowsChunkCorrupt(long position, int storedLength)
    {
        byte[] pack = new byte[100];

        var ex = Assert.Throws<ChunkIntegrityException>(() => PackReader.Frame(pack, position, storedLength));
        Assert.Equal(ChunkErrorCodes.ChunkCorrupt, ex.Code);
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(42, 58)]
    [InlineData(0, 58)]
    public void Frame_InBounds_ReturnsTheRange(long position, int storedLength)
    {
        byte[] pack = TestData.Random(100, 9);

        Assert.Equal(pack.AsSpan((int)position, storedLength).ToArray(), PackReader.Frame(pack, position, storedLength).ToArray());
    }

    [Fact]
    public void New_Always_IsAValidDistinctPackId()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => PackIds.New()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{16}$", id));
        Assert.All(ids, id => Assert.True(StagingNames.IsPackId(id)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal($"r000004/packs/{ids[0]}.pack", StagingNames.Pack(4, ids[0]));
    }
}
