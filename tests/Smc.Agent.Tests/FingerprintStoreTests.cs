using Smc.Agent.Replication;

namespace Smc.Agent.Tests;

/// <summary>The agent's copy of the last round's fingerprints: a sparse slot file, read one slot per lookup.</summary>
public sealed class FingerprintStoreTests : IDisposable
{
    private const int Chunk = 1 << 20;
    private readonly TempDir _temp = new("prints");

    private string StorePath => _temp.File("j-testaaaaaaaaaaaa.fingerprints");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Matches_WrittenChunk_OnlyAtItsOffsetWithItsLengthAndFingerprint()
    {
        string a = Print(1), b = Print(2);
        FingerprintStore.Write(StorePath, "j-testaaaaaaaaaaaa", 3, Chunk, [64L << 20, 8L << 20],
            [(0, 5L << 20, Chunk, a), (0, (7L << 20) + 4096, 8192, b), (1, 0, 4096, b)]);

        using FingerprintStore store = FingerprintStore.Open(StorePath)!;

        Assert.Equal(3, store.Header.Round);
        Assert.Equal("j-testaaaaaaaaaaaa", store.Header.JobId);
        Assert.True(store.Matches(0, 5L << 20, Chunk, Bytes(a), 64L << 20));
        Assert.False(store.Matches(0, 5L << 20, Chunk, Bytes(b), 64L << 20)); // other content
        Assert.False(store.Matches(0, 5L << 20, 4096, Bytes(a), 64L << 20)); // other length
        Assert.False(store.Matches(0, 6L << 20, Chunk, Bytes(a), 64L << 20)); // no chunk there
        Assert.True(store.Matches(0, (7L << 20) + 4096, 8192, Bytes(b), 64L << 20));
        Assert.False(store.Matches(0, 7L << 20, 8192, Bytes(b), 64L << 20)); // same cell, other offset
        Assert.True(store.Matches(1, 0, 4096, Bytes(b), 8L << 20));
        Assert.False(store.Matches(1, 0, 4096, Bytes(b), 16L << 20)); // the disk grew: nothing of it is trusted
        Assert.False(store.Matches(2, 0, 4096, Bytes(b), 8L << 20)); // a disk the round didn't have
    }

    [Fact]
    public void Write_AgainForTheNextRound_ReplacesTheStoreWhole()
    {
        FingerprintStore.Write(StorePath, "j-testaaaaaaaaaaaa", 0, Chunk, [16L << 20], [(0, 0, Chunk, Print(1)), (0, 1L << 20, Chunk, Print(1))]);
        FingerprintStore.Write(StorePath, "j-testaaaaaaaaaaaa", 1, Chunk, [16L << 20], [(0, 0, Chunk, Print(2))]);

        using FingerprintStore store = FingerprintStore.Open(StorePath)!;

        Assert.Equal(1, store.Header.Round);
        Assert.True(store.Matches(0, 0, Chunk, Bytes(Print(2)), 16L << 20));
        Assert.False(store.Matches(0, 1L << 20, Chunk, Bytes(Print(1)), 16L << 20));
        Assert.Equal([StorePath], Directory.GetFiles(_temp.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StorePath));
    }

    [Fact]
    public void Write_TerabyteDisk_StaysSparseOnDisk()
    {
        const long disk = 1L << 40;
        FingerprintStore.Write(StorePath, "j-testaaaaaaaaaaaa", 0, Chunk, [disk], [(0, 0, Chunk, Print(1)), (0, disk - Chunk, Chunk, Print(2))]);

        long allocated = long.Parse(Tool.Run("stat", "-c", "%b", StorePath).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
        using FingerprintStore store = FingerprintStore.Open(StorePath)!;

        Assert.Equal(4096 + (disk / Chunk * 40), new FileInfo(StorePath).Length);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated for two slots");
        Assert.True(store.Matches(0, disk - Chunk, Chunk, Bytes(Print(2)), disk));
    }

    [Fact]
    public void Open_NoStore_IsNull() => Assert.Null(FingerprintStore.Open(StorePath));

    [Fact]
    public void Open_NotAStoreOrCutShort_Throws()
    {
        File.WriteAllText(StorePath, "{\"format\":\"something-else\"}\n");
        Assert.Throws<InvalidDataException>(() => FingerprintStore.Open(StorePath));

        FingerprintStore.Write(StorePath, "j-testaaaaaaaaaaaa", 0, Chunk, [64L << 20], [(0, 0, Chunk, Print(1))]);
        using (var f = new FileStream(StorePath, FileMode.Open))
        {
            f.SetLength(f.Length - 40);
        }

        Assert.Throws<InvalidDataException>(() => FingerprintStore.Open(StorePath));
    }

    private static string Print(int seed) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([(byte)seed]));

    private static byte[] Bytes(string hex) => Convert.FromHexString(hex);
}
