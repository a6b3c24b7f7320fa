using System.Security.Cryptography;
using Smc.Wire.Staging;

namespace Smc.Transfer.Tests;

/// <summary>
/// The committed files under Golden/ are the wire format's reference bytes: this code must make them byte for byte,
/// and must read them. Either failing means the format changed (docs/wire-format.md, "Versioning").
/// </summary>
public sealed class GoldenFileTests
{
    public static TheoryData<string> Files() => [.. GoldenData.All().Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(Files))]
    public void GoldenFile_RecreatedFromFixedInputs_MatchesCommittedBytes(string name)
    {
        byte[] made = GoldenData.All().Single(f => f.Name == name).Bytes;
        if (Environment.GetEnvironmentVariable("SMC_REGENERATE_GOLDEN") == "1")
        {
            File.WriteAllBytes(Path.Combine(GoldenData.SourceFolder(), name), made);
            return;
        }

        Assert.Equal(Convert.ToHexString(GoldenData.Read(name)), Convert.ToHexString(made));
    }

    [Fact]
    public void GoldenFiles_AreSmall()
    {
        long total = Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Golden")).Sum(f => new FileInfo(f).Length);
        Assert.InRange(total, 1, 16 * 1024);
    }

    [Fact]
    public void TextFrame_Committed_IsZstdAndOpens()
    {
        byte[] frame = GoldenData.Read(GoldenData.TextFrameFile);
        Assert.Equal(ChunkCodec.CompressionZstd, frame[ChunkCodec.CompressionOffset]);
        Assert.True(frame.Length < ChunkCodec.HeaderSize + GoldenData.TextAddress.Length);

        byte[] plain = new byte[GoldenData.TextAddress.Length];
        Assert.Equal(plain.Length, ChunkCodec.Open(frame, GoldenData.TextAddress, GoldenData.DataKey(), plain));
        Assert.Equal(GoldenData.TextChunk(), plain);
    }

    [Fact]
    public void RandomFrame_Committed_IsStoredAndOpens()
    {
        byte[] frame = GoldenData.Read(GoldenData.RandomFrameFile);
        Assert.Equal(ChunkCodec.CompressionNone, frame[ChunkCodec.CompressionOffset]);
        Assert.Equal(ChunkCodec.HeaderSize + GoldenData.RandomAddress.Length, frame.Length);

        byte[] plain = new byte[GoldenData.RandomAddress.Length];
        Assert.Equal(plain.Length, ChunkCodec.Open(frame, GoldenData.RandomAddress, GoldenData.DataKey(), plain));
        Assert.Equal(GoldenData.RandomChunk(), plain);
    }

    [Fact]
    public void TextFrame_Committed_HasDocumentedHeaderLayout()
    {
        // The byte table of docs/wire-format.md, "Frame header", checked on the committed bytes.
        byte[] f = GoldenData.Read(GoldenData.TextFrameFile);
        Assert.Equal("SMCK"u8.ToArray(), f[0..4]);
        Assert.Equal(1, f[4]);
        Assert.Equal(1, f[5]);
        Assert.Equal(1, f[6]);
        Assert.Equal(0, f[7]);
        Assert.Equal(0, BitConverter.ToUInt16(f, 8));
        Assert.Equal((uint)GoldenData.Round, BitConverter.ToUInt32(f, 10));
        Assert.Equal(3UL << 20, BitConverter.ToUInt64(f, 14));
        Assert.Equal((uint)GoldenData.TextAddress.Length, BitConverter.ToUInt32(f, 22));
        Assert.Equal((uint)(f.Length - 58), BitConverter.ToUInt32(f, 26));
        Assert.Equal(GoldenData.TextNonce(), f[30..42]);
        Assert.Equal(58, ChunkCodec.HeaderSize);
    }

    [Fact]
    public void CommittedRound_ReadAsTheAssemblerWould_YieldsThePlaintext()
    {
        byte[] manifestBytes = GoldenData.Read(GoldenData.ManifestFile);
        CommitMarker commit = StagingJson.Deserialize<CommitMarker>(GoldenData.Read(GoldenData.CommitFile));
        Assert.Equal(commit.ManifestSha256, Convert.ToHexStringLower(SHA256.HashData(manifestBytes)));

        RoundManifest manifest = StagingJson.Deserialize<RoundManifest>(manifestBytes);
        Assert.Equal(commit.Round, manifest.Round);
        Assert.Equal(commit.ChunkCount, manifest.Chunks.Count);

        using RSA key = GoldenData.Key();
        Assert.Equal(manifest.KeyFingerprint, DataKeys.Fingerprint(key));
        byte[] dataKey = DataKeys.Unwrap(manifest.WrappedDataKey, key);

        byte[] pack = GoldenData.Read(GoldenData.PackFile);
        Assert.Equal(commit.StoredBytes, manifest.Chunks.Sum(c => (long)c.StoredLength));
        var expected = new[] { GoldenData.TextChunk(), GoldenData.RandomChunk() };
        for (int i = 0; i < manifest.Chunks.Count; i++)
        {
            ManifestChunk chunk = manifest.Chunks[i];
            Assert.Equal(GoldenData.PackId, chunk.Pack);
            ReadOnlySpan<byte> frame = PackReader.Frame(pack, chunk.Position, chunk.StoredLength);
            byte[] plain = new byte[chunk.Length];
            ChunkCodec.Open(frame, new ChunkAddress(manifest.JobId, manifest.Round, chunk.Disk, chunk.Offset, chunk.Length), dataKey, plain);
            Assert.Equal(chunk.Fingerprint, ChunkFingerprint.ComputeHex(GoldenData.FingerprintKey(), plain));
            Assert.Equal(expected[i], plain);
        }
    }

    [Fact]
    public void Pack_Committed_IsTheTwoFramesBackToBack()
    {
        byte[] pack = GoldenData.Read(GoldenData.PackFile);
        Assert.Equal([.. GoldenData.Read(GoldenData.TextFrameFile), .. GoldenData.Read(GoldenData.RandomFrameFile)], pack);
    }
}
