using System.Text;
using System.Text.Json.Nodes;
using Smc.Wire.Staging;

namespace Smc.Transfer.Tests;

public sealed class StagingJsonTests
{
    [Fact]
    public void Deserialize_SerializedManifest_RoundTrips()
    {
        RoundManifest manifest = GoldenData.Manifest();

        byte[] json = StagingJson.Serialize(manifest);
        RoundManifest back = StagingJson.Deserialize<RoundManifest>(json);

        Assert.Equal(json, StagingJson.Serialize(back));
        Assert.Equal(RoundManifest.FullRoundFormatVersion, back.FormatVersion);
        Assert.Equal(manifest.JobId, back.JobId);
        Assert.Equal(manifest.Round, back.Round);
        Assert.Equal(manifest.WrappedDataKey, back.WrappedDataKey);
        Assert.Equal(manifest.CreatedAt, back.CreatedAt);
        Assert.Equal(2, back.Disks.Count);
        Assert.Equal("/dev/vda1", back.Disks[0].Source.Parts[0].Device);
        Assert.Equal(manifest.Chunks[1].Fingerprint, back.Chunks[1].Fingerprint);
        Assert.Equal(manifest.Chunks[1].Position, back.Chunks[1].Position);
    }

    [Fact]
    public void WriteManifest_ChunksStreamed_WritesTheGoldenManifestBytes()
    {
        RoundManifest manifest = GoldenData.Manifest();
        List<ManifestChunk> chunks = manifest.Chunks;
        manifest.Chunks = [chunks[1]]; // ignored: the chunks written are the enumerable's, not the head's
        using var output = new MemoryStream();

        StagingJson.WriteManifest(output, manifest, chunks);

        Assert.Equal(Convert.ToHexString(GoldenData.Read("manifest.json")), Convert.ToHexString(output.ToArray()));
        Assert.Single(manifest.Chunks);
    }

    [Fact]
    public void WriteManifest_ManyChunksAndABaseRound_EqualsSerialize()
    {
        RoundManifest manifest = GoldenData.Manifest();
        manifest.FormatVersion = RoundManifest.CurrentFormatVersion;
        manifest.BaseRound = 1;
        ManifestChunk sample = manifest.Chunks[0];
        manifest.Chunks = [.. Enumerable.Range(0, 10_000).Select(i => new ManifestChunk
        {
            Disk = i % 2,
            Offset = (long)i << 20,
            Length = sample.Length,
            Pack = i % 3 == 0 ? null : sample.Pack,
            Position = i * 100L,
            StoredLength = i % 3 == 0 ? 0 : sample.StoredLength,
            Fingerprint = sample.Fingerprint,
        })];
        using var output = new MemoryStream();

        StagingJson.WriteManifest(output, manifest, manifest.Chunks);

        Assert.Equal(StagingJson.Serialize(manifest), output.ToArray());
        Assert.Equal(10_000, StagingJson.Deserialize<RoundManifest>(output.ToArray()).Chunks.Count);
    }

    [Fact]
    public void Serialize_Manifest_IsCompactCamelCase()
    {
        string json = Encoding.UTF8.GetString(StagingJson.Serialize(GoldenData.Manifest()));

        Assert.StartsWith("{\"formatVersion\":1,\"jobId\":\"j-abcdefghijklmnop\",\"round\":2,\"wrappedDataKey\":", json, StringComparison.Ordinal);
        Assert.Contains("\"keyFingerprint\":", json, StringComparison.Ordinal);
        Assert.Contains("\"storedLength\":", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", json, StringComparison.Ordinal);
        Assert.True(StagingJson.Options.IsReadOnly);
    }

    [Fact]
    public void Deserialize_CommitMarker_RoundTrips()
    {
        CommitMarker commit = GoldenData.Commit();

        CommitMarker back = StagingJson.Deserialize<CommitMarker>(StagingJson.Serialize(commit));

        Assert.Equal(CommitMarker.CurrentFormatVersion, back.FormatVersion);
        Assert.Equal(commit.ManifestSha256, back.ManifestSha256);
        Assert.Equal(commit.ChunkCount, back.ChunkCount);
        Assert.Equal(commit.StoredBytes, back.StoredBytes);
        Assert.Equal(commit.CommittedAt, back.CommittedAt);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1000)]
    public void Deserialize_UnsupportedFormatVersion_ThrowsInvalidData(int version)
    {
        byte[] manifest = WithVersion(StagingJson.Serialize(GoldenData.Manifest()), JsonValue.Create(version));
        byte[] commit = WithVersion(StagingJson.Serialize(GoldenData.Commit()), JsonValue.Create(version));

        var ex = Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(manifest));
        Assert.Contains($"formatVersion {version}", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<CommitMarker>(commit));
    }

    [Fact]
    public void Deserialize_NewerVersionWithOtherShape_ThrowsVersionErrorNotSchemaError()
    {
        byte[] json = "{\"chunks\":\"somewhere else now\",\"formatVersion\":3}"u8.ToArray();

        var ex = Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(json));
        Assert.Contains("formatVersion 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_Version2WithAnUnchangedChunk_KeepsBaseRoundAndTheMissingPack()
    {
        RoundManifest manifest = GoldenData.Manifest();
        manifest.FormatVersion = 2;
        manifest.BaseRound = 1;
        manifest.Chunks[1].Pack = null;
        manifest.Chunks[1].Position = 0;
        manifest.Chunks[1].StoredLength = 0;

        RoundManifest back = StagingJson.Deserialize<RoundManifest>(StagingJson.Serialize(manifest));

        Assert.Equal(2, back.FormatVersion);
        Assert.Equal(1, back.BaseRound);
        Assert.Equal(GoldenData.PackId, back.Chunks[0].Pack);
        Assert.Null(back.Chunks[1].Pack);
        Assert.Equal(manifest.Chunks[1].Fingerprint, back.Chunks[1].Fingerprint);
    }

    [Fact]
    public void Deserialize_MissingOrNonNumericFormatVersion_ThrowsInvalidData()
    {
        byte[] json = StagingJson.Serialize(GoldenData.Manifest());
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("formatVersion");

        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(Encoding.UTF8.GetBytes(node.ToJsonString())));
        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(WithVersion(json, JsonValue.Create("1"))));
        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(WithVersion(json, JsonValue.Create(1.5))));
    }

    [Fact]
    public void Deserialize_NestedFormatVersion_IsNotTakenForTheDocuments()
    {
        byte[] json = StagingJson.Serialize(GoldenData.Manifest());
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("formatVersion");
        node.Insert(0, "extra", new JsonObject { ["formatVersion"] = 1 });

        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(Encoding.UTF8.GetBytes(node.ToJsonString())));
    }

    [Fact]
    public void Deserialize_UnknownProperty_IsIgnored()
    {
        var node = JsonNode.Parse(StagingJson.Serialize(GoldenData.Manifest()))!.AsObject();
        node["addedLater"] = new JsonArray(1, 2, 3);

        RoundManifest back = StagingJson.Deserialize<RoundManifest>(Encoding.UTF8.GetBytes(node.ToJsonString()));
        Assert.Equal(GoldenData.JobId, back.JobId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"formatVersion\":1")]
    [InlineData("{\"formatVersion\":1}")]
    [InlineData("{\"formatVersion\":1,\"jobId\":5}")]
    [InlineData("not json")]
    public void Deserialize_Malformed_ThrowsInvalidData(string json)
    {
        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<RoundManifest>(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Deserialize_CommitMissingManifestHash_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => StagingJson.Deserialize<CommitMarker>("{\"formatVersion\":1,\"round\":0}"u8));
    }

    private static byte[] WithVersion(byte[] json, JsonNode? version)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["formatVersion"] = version;
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
