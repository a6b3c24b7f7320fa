using System.Text;
using System.Text.Json.Nodes;
using Smc.Wire.Staging;

namespace Smc.Transfer.Tests;

/// <summary><see cref="StagingJson.ReadChunkedAsync{THead, TChunk}"/>: the same document as the whole-document reader, a chunk at a time.</summary>
public sealed class StagingJsonStreamingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task ReadChunked_GoldenManifestInPieces_EqualsDeserialize(int pieceBytes)
    {
        byte[] json = GoldenData.Read("manifest.json");
        var chunks = new List<ManifestChunk>();

        RoundManifest head = await StagingJson.ReadChunkedAsync<RoundManifest, ManifestChunk>(new TrickleStream(json, pieceBytes), chunks.Add);

        head.Chunks = chunks;
        Assert.Equal(json, StagingJson.Serialize(head));
        Assert.Equal(StagingJson.Deserialize<RoundManifest>(json).Chunks.Count, chunks.Count);
    }

    [Fact]
    public async Task ReadChunked_ManyChunksWrittenChunked_RoundTripsEveryChunkInOrder()
    {
        var fingerprints = new RoundFingerprints { JobId = GoldenData.JobId, Round = 3, ChunkSize = 1 << 20, DiskSizes = [1L << 40] };
        IEnumerable<FingerprintEntry> Entries() => Enumerable.Range(0, 50_000).Select(i => new FingerprintEntry
        {
            Disk = i % 3,
            Offset = (long)i << 20,
            Length = 512 * (1 + (i % 2048)),
            Fingerprint = Convert.ToHexStringLower(BitConverter.GetBytes((long)i * 7919)),
        });
        using var output = new MemoryStream();
        StagingJson.WriteChunked(output, fingerprints, Entries());
        var read = new List<FingerprintEntry>();

        RoundFingerprints head = await StagingJson.ReadChunkedAsync<RoundFingerprints, FingerprintEntry>(new TrickleStream(output.ToArray(), 65_537), read.Add);

        Assert.Equal((GoldenData.JobId, 3, 1 << 20, 1L << 40), (head.JobId, head.Round, head.ChunkSize, head.DiskSizes.Single()));
        Assert.Empty(head.Chunks);
        Assert.Equal(Entries().Select(e => (e.Disk, e.Offset, e.Length, e.Fingerprint)), read.Select(e => (e.Disk, e.Offset, e.Length, e.Fingerprint)));
    }

    [Fact]
    public async Task ReadChunked_UnsupportedVersion_RefusedBeforeAnyChunk()
    {
        var node = JsonNode.Parse(GoldenData.Read("manifest.json"))!.AsObject();
        node["formatVersion"] = RoundManifest.CurrentFormatVersion + 1;
        var chunks = new List<ManifestChunk>();

        var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
            StagingJson.ReadChunkedAsync<RoundManifest, ManifestChunk>(new MemoryStream(Encoding.UTF8.GetBytes(node.ToJsonString())), chunks.Add));

        Assert.Contains("upgrade the reader", e.Message, StringComparison.Ordinal);
        Assert.Empty(chunks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"formatVersion\":1,\"chunks\":[")]
    [InlineData("{\"formatVersion\":1,\"chunks\":{}}")]
    [InlineData("{\"formatVersion\":1,\"chunks\":[null]}")]
    [InlineData("{\"formatVersion\":1,\"chunks\":[5]}")]
    [InlineData("{\"formatVersion\":1,\"chunks\":[{\"disk\":\"x\"}]}")]
    [InlineData("{\"formatVersion\":\"1\",\"chunks\":[]}")]
    [InlineData("{\"formatVersion\":1,\"jobId\":5}")]
    [InlineData("{\"formatVersion\":1} trailing")]
    public async Task ReadChunked_Malformed_ThrowsInvalidData(string json)
    {
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            StagingJson.ReadChunkedAsync<RoundManifest, ManifestChunk>(new TrickleStream(Encoding.UTF8.GetBytes(json), 3), _ => { }));
    }

    [Fact]
    public async Task ReadChunked_ValueLongerThanTheBound_RefusedWithoutReadingOn()
    {
        byte[] json = Encoding.UTF8.GetBytes("{\"formatVersion\":1,\"chunks\":[{\"fingerprint\":\"" + new string('a', JsonArrayStream.MaxValueBytes) + "\"}]}");
        var stream = new TrickleStream(json, 1 << 20);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => StagingJson.ReadChunkedAsync<RoundManifest, ManifestChunk>(stream, _ => { }));

        Assert.Contains("longer than", e.Message, StringComparison.Ordinal);
        Assert.True(stream.Position <= JsonArrayStream.MaxValueBytes + (1 << 20), $"read {stream.Position} bytes");
    }

    /// <summary>Hands out at most a few bytes per read, so values straddle every read boundary.</summary>
    private sealed class TrickleStream(byte[] data, int pieceBytes) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, pieceBytes)], cancellationToken);
    }
}
