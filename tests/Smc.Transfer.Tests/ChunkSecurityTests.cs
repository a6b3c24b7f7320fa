using System.Buffers.Binary;

namespace Smc.Transfer.Tests;

/// <summary>No altered, moved, truncated or wrongly keyed frame ever opens, and every failure is a ChunkIntegrityException.</summary>
public sealed class ChunkSecurityTests
{
    private static readonly byte[] Key = TestData.Key(0x17);
    private static readonly ChunkAddress Address = new(TestData.JobId, 5, 2, 9L << 20, 300);

    public static TheoryData<bool> Kinds() => [true, false];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_AnyHeaderBitFlipped_ThrowsTheFieldsCode(bool compressible)
    {
        byte[] frame = SmallFrame(compressible);
        for (int bit = 0; bit < ChunkCodec.HeaderSize * 8; bit++)
        {
            int index = bit / 8;
            ChunkIntegrityException ex = OpenFlipped(frame, bit);
            string expected = index switch
            {
                < 4 => ChunkErrorCodes.ChunkCorrupt,                                     // magic
                4 or 6 => ChunkErrorCodes.ChunkUnsupported,                              // version, cipher
                5 => ex.Code,                                                            // compression: unknown id or a length mismatch
                7 => ChunkErrorCodes.ChunkCorrupt,                                       // reserved
                < ChunkCodec.PayloadLengthOffset => ChunkErrorCodes.ChunkMismatch,       // disk, round, offset, plain length
                < ChunkCodec.NonceOffset => ChunkErrorCodes.ChunkCorrupt,                // payload length
                _ => ChunkErrorCodes.ChunkTampered,                                      // nonce, tag
            };
            Assert.True(expected == ex.Code, $"bit {bit} (byte {index}): {ex.Code}, expected {expected}");
            if (index == ChunkCodec.CompressionOffset)
            {
                Assert.Contains(ex.Code, new[] { ChunkErrorCodes.ChunkUnsupported, ChunkErrorCodes.ChunkCorrupt });
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_AnyPayloadBitFlipped_ThrowsChunkTampered(bool compressible)
    {
        byte[] frame = SmallFrame(compressible);
        for (int bit = ChunkCodec.HeaderSize * 8; bit < frame.Length * 8; bit++)
        {
            Assert.Equal(ChunkErrorCodes.ChunkTampered, OpenFlipped(frame, bit).Code);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_AnyTruncation_ThrowsChunkCorrupt(bool compressible)
    {
        byte[] frame = SmallFrame(compressible);
        for (int length = 0; length < frame.Length; length++)
        {
            var ex = Assert.Throws<ChunkIntegrityException>(() => ChunkCodec.Open(frame.AsSpan(0, length), Address, Key, new byte[Address.Length]));
            Assert.Equal(ChunkErrorCodes.ChunkCorrupt, ex.Code);
        }
    }

    [Fact]
    public void Open_TrailingByte_ThrowsChunkCorrupt()
    {
        byte[] frame = [.. SmallFrame(true), 0];

        Assert.Equal(ChunkErrorCodes.ChunkCorrupt, Open(frame, Address, Key).Code);
    }

    [Fact]
    public void Open_OtherJob_ThrowsChunkTampered()
    {
        byte[] frame = SmallFrame(true);

        Assert.Equal(ChunkErrorCodes.ChunkTampered, Open(frame, Address with { JobId = "j-abcdefghijklmnop" }, Key).Code);
    }

    [Fact]
    public void Open_OtherRoundDiskOffsetOrLength_ThrowsChunkMismatch()
    {
        byte[] frame = SmallFrame(true);

        Assert.Equal(ChunkErrorCodes.ChunkMismatch, Open(frame, Address with { Round = 6 }, Key).Code);
        Assert.Equal(ChunkErrorCodes.ChunkMismatch, Open(frame, Address with { Disk = 0 }, Key).Code);
        Assert.Equal(ChunkErrorCodes.ChunkMismatch, Open(frame, Address with { Offset = 10L << 20 }, Key).Code);
        Assert.Equal(ChunkErrorCodes.ChunkMismatch, Open(frame, Address with { Length = 299 }, Key).Code);
    }

    [Theory]
    [InlineData(ChunkCodec.RoundOffset, 4)]
    [InlineData(ChunkCodec.DiskOffset, 2)]
    [InlineData(ChunkCodec.OffsetOffset, 8)]
    public void Open_FrameMovedWithRewrittenHeader_ThrowsChunkTampered(int field, int size)
    {
        // Moving a frame to another place means editing both its header and the manifest: the AAD catches it.
        byte[] frame = SmallFrame(true);
        ChunkAddress moved = field switch
        {
            ChunkCodec.RoundOffset => Address with { Round = 9 },
            ChunkCodec.DiskOffset => Address with { Disk = 9 },
            _ => Address with { Offset = 9 },
        };
        Span<byte> target = frame.AsSpan(field, size);
        switch (size)
        {
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(target, 9); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(target, 9); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(target, 9); break;
        }

        Assert.Equal(ChunkErrorCodes.ChunkTampered, Open(frame, moved, Key).Code);
    }

    [Fact]
    public void Open_CompressionIdRewrittenToNone_ThrowsIntegrityException()
    {
        byte[] frame = SmallFrame(true);
        frame[ChunkCodec.CompressionOffset] = ChunkCodec.CompressionNone;

        Assert.Equal(ChunkErrorCodes.ChunkCorrupt, Open(frame, Address, Key).Code);
    }

    [Fact]
    public void Open_WrongDataKey_ThrowsChunkTampered()
    {
        Assert.Equal(ChunkErrorCodes.ChunkTampered, Open(SmallFrame(true), Address, TestData.Key(0x18)).Code);
        Assert.Equal(ChunkErrorCodes.ChunkTampered, Open(SmallFrame(false), Address, TestData.Key(0x18)).Code);
    }

    [Fact]
    public void Open_Failure_ZeroesThePlainBuffer()
    {
        byte[] plain = new byte[Address.Length];
        plain.AsSpan().Fill(0xaa);

        Assert.Throws<ChunkIntegrityException>(() => ChunkCodec.Open(SmallFrame(false), Address, TestData.Key(1), plain));
        Assert.All(plain, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Open_Garbage_ThrowsChunkIntegrityException()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            byte[] garbage = TestData.Random(ChunkCodec.HeaderSize + Address.Length, seed);
            "SMCK\x01\x01\x01\x00"u8.CopyTo(garbage);
            Assert.Throws<ChunkIntegrityException>(() => ChunkCodec.Open(garbage, Address, Key, new byte[Address.Length]));
        }
    }

    private static byte[] SmallFrame(bool compressible)
    {
        byte[] plain = compressible ? TestData.Compressible(Address.Length) : TestData.Random(Address.Length, seed: 3);
        byte[] frame = TestData.Seal(plain, Address, Key, 3);
        Assert.Equal(compressible ? ChunkCodec.CompressionZstd : ChunkCodec.CompressionNone, frame[ChunkCodec.CompressionOffset]);
        return frame;
    }

    private static ChunkIntegrityException OpenFlipped(byte[] frame, int bit)
    {
        byte[] copy = (byte[])frame.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return Open(copy, Address, Key);
    }

    private static ChunkIntegrityException Open(byte[] frame, ChunkAddress address, byte[] key)
    {
        byte[] plain = new byte[Math.Max(address.Length, Address.Length)];
        return Assert.Throws<ChunkIntegrityException>(() => ChunkCodec.Open(frame, address, key, plain));
    }
}
