#:project ../functions/Smc.Api/Smc.Api.csproj
#:property PublishAot=false
#:property ServerGarbageCollection=true

// Benchmark (not a test), used by scripts/bench-rounds.sh: the control plane's peak memory while it assembles one
// committed round of N chunks, through the real services on Azurite. Two modes, each its own process, so the measured
// process holds only what the control plane holds (server GC, as smc-control runs; DOTNET_gcServer=0 for the other):
//   dotnet run -c Release scripts/bench-rounds.cs -- prepare CONNECTION_STRING N
//     does what registration, job creation and an agent's full round leave in storage: a source reporting one disk of
//     N MiB without a partition table (so the destination layout is the identity), a Running Image job with its round
//     1, the job's key pair and fingerprint key (JobKeys), and round 1 staged: N chunks of 512 bytes, one per MiB of
//     the disk, sealed (ChunkCodec, zstd level 1) under a data key wrapped with the job's public key, packed into
//     ~16 MiB packs, then the manifest (written from a stream of chunks, as the agent does) and the commit marker.
//     Prints one JSON line: jobId, round, manifestSha256, manifestBytes, packs, seconds, peak RSS.
//   dotnet run -c Release scripts/bench-rounds.cs -- assemble CONNECTION_STRING JOB_ID MANIFEST_SHA256
//     what the orchestration runs for the round: SliceAssembly.VerifyRoundAsync, AssembleSliceAsync for every slice
//     (one after another) and ImageFinalizer.FinalizeImageAsync. Prints one JSON line: chunks, manifest MiB, and per
//     phase its seconds, the process's peak RSS (VmHWM) once the phase is over and within the phase alone (VmHWM reset
//     through /proc/self/clear_refs when it starts), the largest GC heap seen (sampled every 10 ms) and the bytes
//     allocated; then the whole run's peak RSS and bytes allocated.
// Both read the rest of the control plane's configuration from SMC_* variables as smc-control does; the master key
// must be the same in both (SMC_SECURITY__MASTERKEY).
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Smc.Api;
using Smc.Core.Domain;
using Smc.Core.Orchestration;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Core.Services;
using Smc.Storage.Azure;
using Smc.Transfer;
using Smc.Wire.Inventory;
using Smc.Wire.Staging;

const int Round = 1;
const int PlainBytes = 512;
const int PackBytes = 16 << 20;

if (args.Length < 1 || (args[0], args.Length) is not (("prepare", 3) or ("assemble", 4)))
{
    Console.Error.WriteLine("usage: bench-rounds.cs prepare CONNECTION_STRING N | assemble CONNECTION_STRING JOB_ID MANIFEST_SHA256");
    return 2;
}

if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("SMC_SECURITY__MASTERKEY")))
{
    Console.Error.WriteLine("SMC_SECURITY__MASTERKEY must be set (base64 of 32 bytes), the same for prepare and assemble.");
    return 2;
}

await using ServiceProvider services = Services(args[1]);
return args[0] == "prepare"
    ? await PrepareAsync(services, int.Parse(args[2], CultureInfo.InvariantCulture))
    : await AssembleAsync(services, args[2], args[3]);

// The control plane's one composition, configured as smc-control is (SMC_* variables; the connection string given).
static ServiceProvider Services(string connectionString)
{
    IConfiguration configuration = new ConfigurationBuilder()
        .AddEnvironmentVariables("SMC_")
        .AddInMemoryCollection(new Dictionary<string, string?> { ["STORAGE:CONNECTIONSTRING"] = connectionString })
        .Build();
    return new ServiceCollection().AddLogging().AddSmcControlPlane(configuration).BuildServiceProvider();
}

static async Task<int> PrepareAsync(ServiceProvider services, int chunks)
{
    var clock = Stopwatch.StartNew();
    await AzureStorageRegistration.EnsureCreatedAsync(services);
    var sources = services.GetRequiredService<IRecordStore<SourceServer>>();
    var jobs = services.GetRequiredService<IRecordStore<ReplicationJob>>();
    var keys = services.GetRequiredService<JobKeys>();
    var staging = services.GetRequiredService<IStagingStore>();
    DateTimeOffset now = DateTimeOffset.UtcNow;
    string sourceId = Ids.New(Ids.SourcePrefix), jobId = Ids.New(Ids.JobPrefix);

    // One disk of `chunks` MiB, no partition table: CommittedRounds plans it as the identity ("none").
    var disk = new DiskInfo { Device = "/dev/vda", SizeBytes = (long)chunks * ChunkGrid.Default, PartitionTable = "none" };
    await sources.InsertAsync(sourceId, new SourceServer
    {
        SourceId = sourceId,
        Name = "bench-rounds",
        State = SourceState.InUse,
        JobId = jobId,
        Platform = "Linux",
        Architecture = "x86_64",
        Disks = [disk],
        CreatedAt = now,
    });
    await jobs.InsertAsync(jobId, new ReplicationJob
    {
        JobId = jobId,
        SourceId = sourceId,
        Name = "bench-rounds",
        TargetType = TargetType.Image,
        Status = JobStatus.Running,
        CurrentRound = Round,
        ReplicationJobRuns = [new ReplicationJobRun { Round = Round, StartTime = now }],
        CreatedAt = now,
        UpdatedAt = now,
        StartTime = now,
    });

    // The job's keys as the round's issue makes them; the agent's side: a data key wrapped with the public key.
    string publicKey = await keys.EnsurePublicKeyAsync(jobId);
    byte[] fingerprintKey = await keys.EnsureFingerprintKeyAsync(jobId);
    using var rsa = RSA.Create();
    rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey), out _);
    byte[] dataKey = DataKeys.NewDataKey();

    await staging.EnsureAsync(jobId);
    BlobContainerClient container = services.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(StagingNames.Container(jobId));
    int packs = 0;
    long storedBytes = 0;

    // The chunks, made as the manifest is written: each pack is uploaded once full, the last one after the last
    // chunk, so every pack is in staging before the manifest is uploaded.
    IEnumerable<ManifestChunk> Chunks()
    {
        byte[] pack = new byte[PackBytes + ChunkCodec.MaxFrameLength(PlainBytes)];
        byte[] plain = new byte[PlainBytes];
        string packId = PackIds.New();
        int used = 0;
        for (long i = 0; i < chunks; i++)
        {
            for (int k = 0; k < PlainBytes; k += sizeof(long))
            {
                BinaryPrimitives.WriteInt64LittleEndian(plain.AsSpan(k), i + 1);
            }

            long offset = i * ChunkGrid.Default;
            int stored = ChunkCodec.Seal(plain, new ChunkAddress(jobId, Round, 0, offset, PlainBytes), dataKey, 1, pack.AsSpan(used));
            yield return new ManifestChunk
            {
                Disk = 0,
                Offset = offset,
                Length = PlainBytes,
                Pack = packId,
                Position = used,
                StoredLength = stored,
                Fingerprint = ChunkFingerprint.ComputeHex(fingerprintKey, plain),
            };
            used += stored;
            storedBytes += stored;
            if (used >= PackBytes || i == chunks - 1)
            {
                container.GetBlobClient(StagingNames.Pack(Round, packId)).Upload(new BinaryData(pack.AsMemory(0, used)), overwrite: true);
                packs++;
                packId = PackIds.New();
                used = 0;
            }
        }
    }

    var manifest = new RoundManifest
    {
        FormatVersion = RoundManifest.FullRoundFormatVersion,
        JobId = jobId,
        Round = Round,
        BaseRound = null,
        WrappedDataKey = DataKeys.Wrap(dataKey, rsa),
        KeyFingerprint = DataKeys.Fingerprint(rsa),
        ChunkSize = ChunkGrid.Default,
        Disks = [new ManifestDisk { Index = 0, SizeBytes = disk.SizeBytes, Source = disk, ScannedBytes = disk.SizeBytes, SkippedBytes = disk.SizeBytes - ((long)chunks * PlainBytes) }],
        CreatedAt = now,
        AgentVersion = "bench-rounds",
    };
    string path = Path.Combine(Path.GetTempPath(), $"{jobId}-r{Round}.manifest.json");
    string sha;
    long manifestBytes;
    try
    {
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            StagingJson.WriteManifest(file, manifest, Chunks());
            manifestBytes = file.Length;
            file.Position = 0;
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
        }

        await container.GetBlobClient(StagingNames.Manifest(Round)).UploadAsync(path, overwrite: true);
    }
    finally
    {
        File.Delete(path);
    }

    byte[] marker = StagingJson.Serialize(new CommitMarker
    {
        FormatVersion = 1,
        Round = Round,
        ManifestSha256 = sha,
        ChunkCount = chunks,
        StoredBytes = storedBytes,
        CommittedAt = DateTimeOffset.UtcNow,
    });
    await container.GetBlobClient(StagingNames.Commit(Round)).UploadAsync(new BinaryData(marker), overwrite: true);

    Console.WriteLine(JsonSerializer.Serialize(new
    {
        jobId,
        round = Round,
        manifestSha256 = sha,
        manifestBytes,
        chunks,
        packs,
        storedBytes,
        seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
        peakRssMiB = Memory.PeakRss() >> 20,
    }));
    return 0;
}

static async Task<int> AssembleAsync(ServiceProvider services, string jobId, string sha)
{
    var assembly = services.GetRequiredService<SliceAssembly>();
    var finalizer = services.GetRequiredService<ImageFinalizer>();
    var staging = services.GetRequiredService<IStagingStore>();
    long manifestBytes = await staging.LengthAsync(jobId, StagingNames.Manifest(Round)) ?? throw new InvalidOperationException($"{jobId} has no manifest of round {Round}.");
    long startRss = Memory.Rss();
    var total = Stopwatch.StartNew();
    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    using var sampler = new Memory.Sampler();

    // 1. VerifyRound: the manifest read, checked and planned; the round cut into slices.
    var phases = new Dictionary<string, object>();
    Memory.Phase phase = sampler.Begin();
    AssemblyPlan plan = await assembly.VerifyRoundAsync(new VerifyRoundInput(jobId, Round, sha), CancellationToken.None);
    if (plan.ErrorCode is not null || plan.ImageId is null)
    {
        throw new InvalidOperationException($"VerifyRound refused the round: {plan.ErrorCode}: {plan.Message}");
    }

    phases["verify"] = sampler.End(phase);

    // 2. AssembleSlice, every slice (the orchestration runs them as parallel activities; here one after another).
    phase = sampler.Begin();
    long written = 0;
    foreach (SliceInput slice in plan.Slices)
    {
        SliceResult result = await assembly.AssembleSliceAsync(slice, CancellationToken.None);
        if (result.ErrorCode is not null)
        {
            throw new InvalidOperationException($"Slice {slice.FirstChunk}+{slice.ChunkCount} of disk {slice.Disk} failed: {result.ErrorCode}: {result.Message}");
        }

        written += result.WrittenBytes;
    }

    phases["slices"] = sampler.End(phase);

    // 3. FinalizeImage: the disk map, the image record, its boot inspection, the fingerprints, retention.
    phase = sampler.Begin();
    if (!await finalizer.FinalizeImageAsync(new FinalizeImageInput(jobId, Round, sha, plan.ImageId, written), CancellationToken.None))
    {
        throw new InvalidOperationException("FinalizeImage answered false.");
    }

    phases["finalize"] = sampler.End(phase);
    total.Stop();
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

    // The round's image is there: its record, and the job's run ended with it.
    LocalImage image = (await services.GetRequiredService<IRecordStore<LocalImage>>().GetAsync(plan.ImageId))?.Value
        ?? throw new InvalidOperationException($"No image record {plan.ImageId}.");
    ReplicationJob job = (await services.GetRequiredService<IRecordStore<ReplicationJob>>().GetAsync(jobId))!.Value;
    if (image.Status != "Available" || job.ReplicationJobRuns.Single(r => r.Round == Round) is not { EndTime: not null } run || run.ImageId != plan.ImageId)
    {
        throw new InvalidOperationException("The round did not end with its image.");
    }

    Console.WriteLine(JsonSerializer.Serialize(new
    {
        chunks = written / PlainBytes,
        manifestMiB = Math.Round(manifestBytes / 1048576.0, 1),
        slices = plan.Slices.Count,
        gc = GCSettings.IsServerGC ? "server" : "workstation",
        startRssMiB = startRss >> 20,
        phases,
        seconds = Math.Round(total.Elapsed.TotalSeconds, 2),
        peakRssMiB = sampler.PeakRss >> 20,
        allocatedMiB = allocated >> 20,
    }));
    return 0;
}

/// <summary>The process's memory: resident set (VmRSS, VmHWM) and a sampler of the GC heap's size per phase.</summary>
internal static class Memory
{
    public static long PeakRss() => Status("VmHWM:");

    public static long Rss() => Status("VmRSS:");

    /// <summary>Resets VmHWM to the current RSS (Linux 4.0+); false where the kernel refuses.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Status(string field) => File.ReadLines("/proc/self/status").Where(l => l.StartsWith(field, StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).Single();

    internal sealed record Phase(Stopwatch Clock, long Allocated, bool Reset);

    /// <summary>Samples the GC's heap every 10 ms: the largest heap after a GC and the largest total of live-and-dead objects.</summary>
    internal sealed class Sampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private long _heapMax, _managedMax;

        public Sampler()
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "bench-sampler" };
            _thread.Start();
        }

        /// <summary>The whole run's peak RSS: the largest of the phases' own peaks and the peak before the first.</summary>
        public long PeakRss { get; private set; } = Memory.PeakRss();

        public Phase Begin()
        {
            Interlocked.Exchange(ref _heapMax, 0);
            Interlocked.Exchange(ref _managedMax, 0);
            PeakRss = Math.Max(PeakRss, Memory.PeakRss());
            return new Phase(Stopwatch.StartNew(), GC.GetTotalAllocatedBytes(precise: true), ResetPeak());
        }

        public object End(Phase phase)
        {
            phase.Clock.Stop();
            Sample();
            long phasePeak = Memory.PeakRss();
            PeakRss = Math.Max(PeakRss, phasePeak);
            return new
            {
                seconds = Math.Round(phase.Clock.Elapsed.TotalSeconds, 2),
                peakRssMiB = PeakRss >> 20,
                phasePeakRssMiB = phase.Reset ? phasePeak >> 20 : (long?)null,
                rssAfterMiB = Rss() >> 20,
                gcHeapMaxMiB = Interlocked.Read(ref _heapMax) >> 20,
                managedMaxMiB = Interlocked.Read(ref _managedMax) >> 20,
                allocatedMiB = (GC.GetTotalAllocatedBytes(precise: true) - phase.Allocated) >> 20,
            };
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }

        private void Run()
        {
            while (!_stop)
            {
                Sample();
                Thread.Sleep(10);
            }
        }

        private void Sample()
        {
            Max(ref _heapMax, GC.GetGCMemoryInfo().HeapSizeBytes);
            Max(ref _managedMax, GC.GetTotalMemory(forceFullCollection: false));
        }

        private static void Max(ref long field, long value)
        {
            for (long seen = Interlocked.Read(ref field); value > seen; seen = Interlocked.Read(ref field))
            {
                if (Interlocked.CompareExchange(ref field, value, seen) == seen)
                {
                    return;
                }
            }
        }
    }
}
