using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Smc.Wire.Inventory;
using Smc.Wire.Staging;

namespace Smc.Transfer.Tests;

/// <summary>
/// The fixed inputs of the golden files under Golden/ and the code that makes them. A change of the wire format shows
/// up as a difference from the committed bytes. Set SMC_REGENERATE_GOLDEN=1 to rewrite them (only for an intended,
/// versioned format change: the old files must stay readable, see docs/wire-format.md "Versioning").
/// </summary>
internal static class GoldenData
{
    public const string JobId = "j-abcdefghijklmnop";
    public const int Round = 2;
    public const string PackId = "0123456789abcdef";

    /// <summary>The data key (bytes 0..31) wrapped once with Golden/job-key.pem; OAEP is randomized, so it is a constant.</summary>
    public const string WrappedDataKey = "XqyfW0r6cstqatCxGEl5ehy6vXkkv3HtPD81m2IlGTAgKvG4UZv1ZBXCFxULnoG6czHPSWOck2GE7aIxGh/JFAECZalxb00Q+zbele35uwVaq8McuLotLaJ7kpK6CQ0mK8xOLeYv0IaYTxqTZYm5sAF3La+aLE3EDFM9XC5KtEnKWiOkk+rS5wyAcKwt4qh0zThxCGSsUjzdwbkAA0BDFGmzDLAt3cYfkC0iJYBRveUX7cqK+0MrYtqWf9QXGecFU36AmFlZfoUDa6nyBsu6NyxKZgrnHscvuRQiAnDiuFv1ryK5A8Jyznl2bvJ4Yo2eSbmruhAOZEpMLN6iBtiPQRlDsVCYB3N7VgSzvTzkwSgRvGkq/DRDZe3PmjGmKxRvRc/K0889J9lajOGFi9lBSyadPgOU5XSNCVnIr0ZehWpsnLo9Dr1k8KTEvncITJuVoRHqFuiR1cqPWZZZ1C4Wj8OSTRkthJuze6Ixw5KDFAEukG3XGqVSo9imOGloqvwE";

    /// <summary>SHA-256 of Golden/job-key.pem's SubjectPublicKeyInfo.</summary>
    public const string KeyFingerprint = "609ce805206b673483d96cdeeb06cb56a6795f57dd2c1ea1840557e8e06246ee";

    public const string TextFrameFile = "frame-text.bin";
    public const string RandomFrameFile = "frame-random.bin";
    public const string PackFile = "pack.bin";
    public const string ManifestFile = "manifest.json";
    public const string CommitFile = "commit.json";
    public const string KeyFile = "job-key.pem";

    public static readonly ChunkAddress TextAddress = new(JobId, Round, 0, 3L << 20, TextChunk().Length);
    public static readonly ChunkAddress RandomAddress = new(JobId, Round, 1, (1L << 20) + 4096, RandomChunk().Length);

    /// <summary>The job fingerprint key of the golden manifest: bytes 0x40…0x5f. Test material only.</summary>
    public static byte[] FingerprintKey() => [.. Enumerable.Range(0x40, 32).Select(i => (byte)i)];

    public static byte[] DataKey()
    {
        byte[] key = new byte[32];
        for (int i = 0; i < key.Length; i++)
        {
            key[i] = (byte)i;
        }

        return key;
    }

    public static byte[] TextNonce() => [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b];

    public static byte[] RandomNonce() => [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b];

    /// <summary>4 KiB of text (eight sectors): compresses well, so the text frame is zstd (compression id 1), level 3.</summary>
    public static byte[] TextChunk()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 64; i++)
        {
            text.Append(i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" SMC golden chunk: the quick brown fox jumps over the lazy dog.\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, 4096));
    }

    /// <summary>512 pseudo-random bytes (one sector; SHA-256 in counter mode over a fixed seed): stored uncompressed, level 1.</summary>
    public static byte[] RandomChunk() => TestData.Random(512, seed: 7);

    public static byte[] TextFrame() => Seal(TextChunk(), TextAddress, 3, TextNonce());

    public static byte[] RandomFrame() => Seal(RandomChunk(), RandomAddress, 1, RandomNonce());

    public static byte[] Pack()
    {
        var builder = new PackBuilder();
        Assert.True(builder.TryAdd(TextFrame(), out _));
        Assert.True(builder.TryAdd(RandomFrame(), out _));
        return builder.Content.ToArray();
    }

    public static RoundManifest Manifest()
    {
        byte[] text = TextFrame();
        byte[] random = RandomFrame();
        return new RoundManifest
        {
            FormatVersion = RoundManifest.FullRoundFormatVersion, // the golden round is a complete one: version 1
            JobId = JobId,
            Round = Round,
            WrappedDataKey = WrappedDataKey,
            KeyFingerprint = KeyFingerprint,
            ChunkSize = 1 << 20,
            Disks =
            [
                new ManifestDisk
                {
                    Index = 0,
                    SizeBytes = 8L << 30,
                    Source = new DiskInfo
                    {
                        Device = "/dev/vda",
                        SizeBytes = 8L << 30,
                        PartitionTable = "gpt",
                        DiskId = "2f0c8a4e-5d2b-4c61-9d0e-7b7a0c1e9f10",
                        Parts =
                        [
                            new PartitionInfo
                            {
                                Number = 1,
                                Device = "/dev/vda1",
                                Path = "/",
                                FileSystem = "ext4",
                                StartBytes = 1L << 20,
                                SizeBytes = (8L << 30) - (2L << 20),
                                UsedBytes = 1L << 30,
                                CanBlock = true,
                                TypeId = "0fc63daf-8483-4772-8e79-3d69d8477de4",
                            },
                        ],
                    },
                    ScannedBytes = 1L << 30,
                    SkippedBytes = (1L << 30) - text.Length,
                },
                new ManifestDisk
                {
                    Index = 1,
                    SizeBytes = 2L << 30,
                    Source = new DiskInfo { Device = "/dev/vdb", SizeBytes = 2L << 30, PartitionTable = "none" },
                    ScannedBytes = 2L << 30,
                    SkippedBytes = (2L << 30) - random.Length,
                },
            ],
            Chunks =
            [
                Chunk(TextAddress, TextChunk(), 0, text.Length),
                Chunk(RandomAddress, RandomChunk(), text.Length, random.Length),
            ],
            CreatedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
            AgentVersion = "0.3.0",
        };
    }

    public static byte[] ManifestJson() => StagingJson.Serialize(Manifest());

    public static CommitMarker Commit() => new()
    {
        Round = Round,
        ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(ManifestJson())),
        ChunkCount = 2,
        StoredBytes = Pack().Length,
        CommittedAt = new DateTimeOffset(2025, 1, 2, 3, 5, 6, TimeSpan.Zero),
    };

    public static byte[] CommitJson() => StagingJson.Serialize(Commit());

    /// <summary>Every golden file by name and the bytes this code makes for it (the key is not made, only read).</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> All() =>
    [
        (TextFrameFile, TextFrame()),
        (RandomFrameFile, RandomFrame()),
        (PackFile, Pack()),
        (ManifestFile, ManifestJson()),
        (CommitFile, CommitJson()),
    ];

    /// <summary>A committed golden file, as copied next to the test assembly.</summary>
    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", name));

    /// <summary>The job key pair the golden wrapped key was made with. Test material only, never a real key.</summary>
    public static RSA Key()
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(Encoding.ASCII.GetString(Read(KeyFile)));
        return rsa;
    }

    /// <summary>The Golden/ folder of the source tree (for SMC_REGENERATE_GOLDEN).</summary>
    public static string SourceFolder([CallerFilePath] string thisFile = "") => Path.Combine(Path.GetDirectoryName(thisFile)!, "Golden");

    private static ManifestChunk Chunk(ChunkAddress address, byte[] plain, long position, int storedLength) => new()
    {
        Disk = address.Disk,
        Offset = address.Offset,
        Length = address.Length,
        Pack = PackId,
        Position = position,
        StoredLength = storedLength,
        Fingerprint = ChunkFingerprint.ComputeHex(FingerprintKey(), plain),
    };

    private static byte[] Seal(byte[] plain, ChunkAddress address, int level, byte[] nonce)
    {
        byte[] frame = new byte[ChunkCodec.MaxFrameLength(plain.Length)];
        int length = ChunkCodec.Seal(plain, address, DataKey(), level, nonce, frame);
        return frame.AsSpan(0, length).ToArray();
    }
}
