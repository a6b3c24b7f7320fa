using System.Text;
using Smc.Agent.Replication;
using Smc.Wire.Staging;

namespace Smc.Agent.Tests;

/// <summary>The control plane's fingerprints document, read from a file as a stream (as the agent does when it lost its store).</summary>
public sealed class FingerprintsDocumentTests : IDisposable
{
    private readonly TempDir _temp = new("printsdoc");

    private string DocPath => _temp.File("prints.json");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(16)] // every value straddles a refill, and the buffer grows
    [InlineData(1000)]
    [InlineData(1 << 16)]
    public void Read_DocumentAsTheControlPlaneServesIt_GivesItsHeadAndEveryChunkInOrder(int bufferBytes)
    {
        RoundFingerprints document = Document(20_000);
        File.WriteAllBytes(DocPath, StagingJson.Serialize(document));

        FingerprintsDocument.Head head = FingerprintsDocument.ReadHead(DocPath, bufferBytes);
        var chunks = new List<FingerprintEntry>();
        FingerprintsDocument.ReadChunks(DocPath, chunks.Add, bufferBytes);

        Assert.Equal(("j-testaaaaaaaaaaaa", 4, 1 << 20), (head.JobId, head.Round, head.ChunkSize));
        Assert.Equal(document.DiskSizes, head.DiskSizes);
        Assert.Equal(document.Chunks.Select(c => (c.Disk, c.Offset, c.Length, c.Fingerprint)), chunks.Select(c => (c.Disk, c.Offset, c.Length, c.Fingerprint)));
    }

    [Fact]
    public void ReadHead_ChunksBeforeTheHeadAndUnknownFields_StillFindsTheHead()
    {
        File.WriteAllText(DocPath, """
            { "chunks": [ { "disk": 0, "offset": 0, "length": 4096, "fingerprint": "ab" } ], "future": { "a": [1, 2] },
              "diskSizes": [ 8388608 ], "chunkSize": 1048576, "round": 2, "jobId": "j-testaaaaaaaaaaaa" }
            """);

        FingerprintsDocument.Head head = FingerprintsDocument.ReadHead(DocPath, 16);

        Assert.Equal([8388608L], head.DiskSizes);
        Assert.Equal(2, head.Round);
    }

    [Fact]
    public void Read_CutShortOrNotTheDocument_ThrowsInvalidData()
    {
        byte[] whole = StagingJson.Serialize(Document(100));
        File.WriteAllBytes(DocPath, whole[..(whole.Length / 2)]);
        var before = new List<FingerprintEntry>();
        Assert.Throws<InvalidDataException>(() => FingerprintsDocument.ReadChunks(DocPath, before.Add, 256));
        Assert.InRange(before.Count, 30, 49); // streamed: the chunks before the cut came out first, with a 256-byte buffer
        Assert.Equal(4, FingerprintsDocument.ReadHead(DocPath).Round); // the head comes first: read without the chunks

        File.WriteAllText(DocPath, "[1, 2, 3]");
        Assert.Throws<InvalidDataException>(() => FingerprintsDocument.ReadHead(DocPath));

        File.WriteAllText(DocPath, "{\"jobId\":\"j-testaaaaaaaaaaaa\",\"chunks\":[{\"disk\":\"zero\"}]}");
        Assert.Throws<InvalidDataException>(() => FingerprintsDocument.ReadChunks(DocPath, _ => { }));

        File.WriteAllText(DocPath, "{\"jobId\":\"j-testaaaaaaaaaaaa\",\"chunks\":[]}", Encoding.UTF8);
        Assert.Throws<InvalidDataException>(() => FingerprintsDocument.ReadHead(DocPath)); // no round, chunk size or disk sizes
    }

    [Fact]
    public void FingerprintStore_WrittenFromTheDocument_MatchesItsChunks()
    {
        RoundFingerprints document = Document(3000);
        File.WriteAllBytes(DocPath, StagingJson.Serialize(document));
        string store = _temp.File("store");

        FingerprintsDocument.Head head = FingerprintsDocument.ReadHead(DocPath);
        FingerprintStore.Write(store, head.JobId!, head.Round!.Value, head.ChunkSize, head.DiskSizes!,
            add => FingerprintsDocument.ReadChunks(DocPath, c => add(c.Disk, c.Offset, c.Length, c.Fingerprint)));
        using FingerprintStore opened = FingerprintStore.Open(store)!;

        Assert.All(document.Chunks, c => Assert.True(opened.Matches(c.Disk, c.Offset, c.Length, Convert.FromHexString(c.Fingerprint), document.DiskSizes[c.Disk])));
        Assert.False(opened.Matches(0, 1L << 20, 1 << 20, new byte[32], document.DiskSizes[0]));
    }

    private static RoundFingerprints Document(int chunks) => new()
    {
        JobId = "j-testaaaaaaaaaaaa",
        Round = 4,
        ChunkSize = 1 << 20,
        DiskSizes = [64L << 30, 8L << 30],
        Chunks = [.. Enumerable.Range(0, chunks).Select(i => new FingerprintEntry
        {
            Disk = i % 2,
            Offset = (long)(i / 2) << 20,
            Length = i % 7 == 0 ? 4096 : 1 << 20,
            Fingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))),
        })],
    };
}
