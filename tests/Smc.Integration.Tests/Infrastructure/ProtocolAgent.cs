using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Smc.Transfer;
using Smc.Wire.Staging;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// Plays the agent's side of the protocol step by step (register, job, command, staging SAS, packs, manifest,
/// commit marker, commit), so tests can do what an honest agent never does: alter staging at a chosen point.
/// The source is one 4 MiB disk without a partition table, filled with seeded random bytes.
/// </summary>
internal sealed class ProtocolAgent
{
    public const int DiskSize = 4 << 20;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private ProtocolAgent(ControlPlane control, ApiClient agent, string sourceId, byte[] disk)
    {
        Control = control;
        Agent = agent;
        SourceId = sourceId;
        Disk = disk;
    }

    public ControlPlane Control { get; }

    public ApiClient Agent { get; }

    public string SourceId { get; }

    public byte[] Disk { get; }

    public string JobId { get; private set; } = "";

    public JsonNode Command { get; private set; } = new JsonObject();

    public BlobContainerClient Staging { get; private set; } = null!;

    public static async Task<ProtocolAgent> RegisterAsync(ControlPlane control, int seed)
    {
        var (_, code) = await Flows.NewTokenAsync(control.Operator());
        byte[] disk = new byte[DiskSize];
        new Random(seed).NextBytes(disk);
        var body = new
        {
            agentVersion = "protocol-test",
            platform = "Linux",
            architecture = "x86_64",
            disks = new[] { new { device = "/dev/vdz", sizeBytes = DiskSize, partitionTable = "none", parts = Array.Empty<object>() } },
        };
        JsonNode registered = (await new ApiClient(control.Url, bearer: code).PostAsync("/api/v1/agent/register", body)).Expect(HttpStatusCode.Created).Json;
        string credential = registered["credential"]!.GetValue<string>();
        return new ProtocolAgent(control, control.Agent(credential), registered["sourceId"]!.GetValue<string>(), disk) { Credential = credential };
    }

    /// <summary>The agent's credential from its registration.</summary>
    public string Credential { get; private init; } = "";

    /// <summary>The staging SAS URL the control plane handed out.</summary>
    public Uri StagingUrl { get; private set; } = null!;

    /// <summary>The data key of the last round sealed here (plain: the manifest carries it wrapped).</summary>
    public byte[] LastDataKey { get; private set; } = [];

    /// <summary>The job's chunk fingerprint key, from the staging credentials.</summary>
    public byte[] FingerprintKey { get; private set; } = [];

    /// <summary>Creates and starts a job through the agent route and waits for its Replicate command and a staging SAS.</summary>
    /// <param name="job">Fields of the job beside its name (e.g. runOnce, syncInterval).</param>
    public async Task StartJobAsync(object? job = null)
    {
        JsonObject body = job is null ? [] : JsonSerializer.SerializeToNode(job, Web)!.AsObject();
        body["name"] = "protocol";
        JobId = (await Agent.PostAsync("/api/v1/agent/jobs", body)).Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();
        await AwaitCommandAsync(0);

        JsonNode credentials = (await Agent.PostAsync($"/api/v1/agent/jobs/{JobId}/staging-credentials")).Expect(HttpStatusCode.OK).Json;
        StagingUrl = new Uri(credentials["containerUrl"]!.GetValue<string>());
        Staging = new BlobContainerClient(StagingUrl);
        FingerprintKey = Convert.FromBase64String(credentials["fingerprintKey"]!.GetValue<string>());
    }

    /// <summary>Heartbeats until the control plane hands out the Replicate command of <paramref name="round"/>.</summary>
    public async Task AwaitCommandAsync(int round)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            JsonNode beat = (await Agent.PostAsync("/api/v1/agent/heartbeat", new { agentVersion = "protocol-test" })).Expect(HttpStatusCode.OK).Json;
            JsonNode? command = beat["commands"]!.AsArray().FirstOrDefault(c => c!["jobId"]!.GetValue<string>() == JobId && c["round"]!.GetValue<int>() == round);
            if (command is not null)
            {
                Command = command;
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no Replicate command for round {round} within 60 s");
            await Task.Delay(200);
        }
    }

    /// <summary>The round of the command in hand.</summary>
    public int Round => Command["round"]!.GetValue<int>();

    /// <summary>
    /// Seals the disk as four 1 MiB chunks in one pack (a complete round, whatever its number; with
    /// <see cref="Alteration.UnchangedSinceBase"/> chunks 1 and 2 are listed as unchanged since the command's base round);
    /// <paramref name="alter"/> may change the pack, manifest or chunk addresses first.
    /// </summary>
    public async Task<string> UploadRoundAsync(Alteration alter = Alteration.None)
    {
        using RSA key = RSA.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(Command["publicKey"]!.GetValue<string>()), out _);
        byte[] dataKey = DataKeys.NewDataKey();
        LastDataKey = dataKey;
        var pack = new PackBuilder(8 << 20);
        var chunks = new List<ManifestChunk>();
        string packId = PackIds.New();
        bool incremental = alter is Alteration.UnchangedSinceBase or Alteration.ForgedUnchanged;
        for (int i = 0; i < 4; i++)
        {
            long offset = i << 20;
            if (incremental && i is 1 or 2)
            {
                // Listed as unchanged since the command's base round: no pack, only the fingerprint.
                byte[] content = alter == Alteration.ForgedUnchanged && i == 2 ? new byte[1 << 20] : Disk[(int)offset..(int)(offset + (1 << 20))];
                chunks.Add(new ManifestChunk { Disk = 0, Offset = offset, Length = 1 << 20, Fingerprint = ChunkFingerprint.ComputeHex(FingerprintKey, content) });
                continue;
            }

            string sealedFor = alter == Alteration.SealedForAnotherJob && i == 1 ? "j-aaaaaaaaaaaaaaaa" : JobId;
            byte[] frame = new byte[ChunkCodec.MaxFrameLength(1 << 20)];
            int sealedRound = alter == Alteration.SealedForAnotherRound && i == 1 ? Round + 1 : Round;
            int n = ChunkCodec.Seal(Disk.AsSpan((int)offset, 1 << 20), new ChunkAddress(sealedFor, sealedRound, 0, offset, 1 << 20), dataKey, 1, frame);
            Assert.True(pack.TryAdd(frame.AsSpan(0, n), out long position));
            chunks.Add(new ManifestChunk { Disk = 0, Offset = offset, Length = 1 << 20, Pack = packId, Position = position, StoredLength = n, Fingerprint = ChunkFingerprint.ComputeHex(FingerprintKey, Disk.AsSpan((int)offset, 1 << 20)) });
        }

        if (alter == Alteration.MovedChunk)
        {
            (chunks[1].Offset, chunks[2].Offset) = (chunks[2].Offset, chunks[1].Offset);
            (chunks[1].Fingerprint, chunks[2].Fingerprint) = (chunks[2].Fingerprint, chunks[1].Fingerprint);
        }

        if (alter == Alteration.HugeStoredLength)
        {
            chunks[2].StoredLength = int.MaxValue; // a buffer of 2 GiB, were it believed
        }
        else if (alter == Alteration.PositionPastThePack)
        {
            chunks[3].Position = 1L << 40;
        }

        byte[] packBytes = pack.Content.ToArray();
        if (alter == Alteration.FlippedBit)
        {
            packBytes[(int)chunks[2].Position + ChunkCodec.HeaderSize + 100] ^= 0x10;
        }

        await Staging.GetBlobClient(StagingNames.Pack(Round, packId)).UploadAsync(new BinaryData(packBytes));
        var manifest = new RoundManifest
        {
            FormatVersion = incremental ? RoundManifest.CurrentFormatVersion : RoundManifest.FullRoundFormatVersion,
            BaseRound = incremental ? Command["baseRound"]!.GetValue<int>() : null,
            JobId = JobId,
            Round = Round,
            WrappedDataKey = DataKeys.Wrap(dataKey, key),
            KeyFingerprint = DataKeys.Fingerprint(key),
            ChunkSize = 1 << 20,
            Disks = [new ManifestDisk { Index = 0, SizeBytes = alter == Alteration.ExabyteDisk ? 1L << 60 : DiskSize, Source = new Smc.Wire.Inventory.DiskInfo { Device = "/dev/vdz", SizeBytes = DiskSize, PartitionTable = "none" } }],
            Chunks = [.. chunks.OrderBy(c => c.Offset)],
            CreatedAt = DateTimeOffset.UtcNow,
            AgentVersion = "protocol-test",
        };
        byte[] manifestBytes = StagingJson.Serialize(manifest);
        string sha = Convert.ToHexStringLower(SHA256.HashData(manifestBytes));
        await Staging.GetBlobClient(StagingNames.Manifest(Round)).UploadAsync(new BinaryData(manifestBytes));
        var marker = new CommitMarker { Round = Round, ManifestSha256 = sha, ChunkCount = 4, StoredBytes = packBytes.Length, CommittedAt = DateTimeOffset.UtcNow };
        await Staging.GetBlobClient(StagingNames.Commit(Round)).UploadAsync(new BinaryData(StagingJson.Serialize(marker)));
        if (alter == Alteration.ManifestEditedAfterCommit)
        {
            manifest.Chunks.RemoveAt(3);
            await Staging.GetBlobClient(StagingNames.Manifest(Round)).UploadAsync(new BinaryData(StagingJson.Serialize(manifest)), overwrite: true);
        }

        return sha;
    }

    public async Task<Reply> CommitAsync(string manifestSha256) =>
        await Agent.PostAsync($"/api/v1/agent/jobs/{JobId}/rounds/{Round}/commit", new { manifestSha256, chunkCount = 4 });

    public Task<JsonNode> WaitForEndAsync() =>
        Control.Operator().WaitForAsync($"/api/v1/replication-jobs/{JobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(90));
}

public enum Alteration
{
    None,
    FlippedBit,
    MovedChunk,
    SealedForAnotherJob,
    SealedForAnotherRound,
    ManifestEditedAfterCommit,
    HugeStoredLength,
    PositionPastThePack,
    ExabyteDisk,

    /// <summary>An honest incremental round: chunks 1 and 2 listed without a pack, as unchanged since the base round.</summary>
    UnchangedSinceBase,

    /// <summary>As <see cref="UnchangedSinceBase"/>, but chunk 2's listed fingerprint is not the base round's.</summary>
    ForgedUnchanged,
}
