using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Smc.Agent.Control;
using Smc.Agent.Replication;
using Smc.Transfer;
using Smc.Wire.Agent;

namespace Smc.Agent.Commands;

/// <summary>
/// Hidden <c>smc-agent benchmark …</c> commands used by scripts/bench.sh: the pipeline into a null sink, and the
/// raw-upload baseline (the whole image, in 4 MiB blocks, with the same parallelism). They print JSON figures.
/// </summary>
internal static class BenchmarkCommand
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    public static async Task<int> PipelineAsync(IReadOnlyList<string> disks, int compressLevel, CancellationToken cancellationToken)
    {
        string state = Path.Combine(Path.GetTempPath(), $"smc-bench-{Environment.ProcessId}");
        (long read, long packed, TimeSpan elapsed) = await MeasurePipelineAsync(disks, compressLevel, state, cancellationToken);
        Directory.Delete(state, recursive: true);
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            usedBytesRead = read,
            packedBytes = packed,
            seconds = elapsed.TotalSeconds,
            mbPerSecond = read / 1e6 / elapsed.TotalSeconds,
            peakRssMiB = RoundRunner.PeakRssBytes() >> 20,
            zstd = Smc.Transfer.SystemZstd.IsAvailable ? $"system {Smc.Transfer.SystemZstd.Version}" : "managed",
        }));
        return ExitCodes.Ok;
    }

    /// <summary>A full and an unchanged incremental round of one disk (<see cref="MeasureRoundsAsync"/>).</summary>
    public static async Task<int> RoundsAsync(IReadOnlyList<string> disks, int chunkKiB, CancellationToken cancellationToken)
    {
        if (disks.Count != 1)
        {
            throw new AgentException(ExitCodes.Usage, "benchmark rounds takes one --disk.");
        }

        string state = Path.Combine(Path.GetTempPath(), $"smc-bench-{Environment.ProcessId}");
        try
        {
            RoundsFigures figures = await MeasureRoundsAsync(disks[0], chunkKiB << 10, state, cancellationToken);
            Console.Out.WriteLine(JsonSerializer.Serialize(figures, WebJson));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Change detection at several chunk sizes: which chunks of <paramref name="after"/> an incremental round would send
    /// after a round of <paramref name="before"/> (same disk, two moments), their bytes before and after zstd level 1.
    /// For the chunk-size decision (docs/adr/0004): small changes must stay small uploads.
    /// </summary>
    public static int Changes(string before, string after, IReadOnlyList<int> chunkKiB)
    {
        byte[] key = Smc.Transfer.ChunkFingerprint.NewKey();
        var rows = new List<object>();
        foreach (int kib in chunkKiB)
        {
            int chunkSize = kib << 10;
            var clock = Stopwatch.StartNew();
            Dictionary<long, (int Length, string Fingerprint)> old = Fingerprints(before, chunkSize, key).ToDictionary(c => c.Offset, c => (c.Length, c.Fingerprint));
            long sent = 0, stored = 0, chunks = 0, sentChunks = 0;
            byte[] frame = new byte[Smc.Transfer.ChunkCodec.MaxFrameLength(chunkSize)];
            byte[] dataKey = Smc.Transfer.DataKeys.NewDataKey();
            foreach (var (offset, length, fingerprint, plain) in Fingerprints(after, chunkSize, key, keepPlain: true))
            {
                chunks++;
                if (old.TryGetValue(offset, out var known) && known.Length == length && known.Fingerprint == fingerprint)
                {
                    continue;
                }

                sentChunks++;
                sent += length;
                stored += Smc.Transfer.ChunkCodec.Seal(plain!.AsSpan(0, length), new Smc.Transfer.ChunkAddress("j-benchmarkaaaaaaa", 1, 0, offset, length), dataKey, 1, frame);
            }

            rows.Add(new { chunkKiB = kib, chunks, sentChunks, sentBytes = sent, storedBytes = stored, seconds = clock.Elapsed.TotalSeconds });
        }

        Console.Out.WriteLine(JsonSerializer.Serialize(rows));
        return ExitCodes.Ok;
    }

    private static IEnumerable<(long Offset, int Length, string Fingerprint, byte[]? Plain)> Fingerprints(string disk, int chunkSize, byte[] key, bool keepPlain = false)
    {
        DiskPlan plan = DiskPlan.Build(0, disk, chunkSize);
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(disk);
        byte[] buffer = new byte[chunkSize];
        foreach (ChunkRange range in plan.Chunks)
        {
            string? fingerprint = ReadAndFingerprint(handle, buffer, range, key);
            if (fingerprint is not null)
            {
                yield return (range.Offset, range.Length, fingerprint, keepPlain ? buffer : null);
            }
        }
    }

    /// <summary>The chunk's fingerprint, or null when it is all zero (never sent).</summary>
    private static string? ReadAndFingerprint(Microsoft.Win32.SafeHandles.SafeFileHandle handle, byte[] buffer, ChunkRange range, byte[] key)
    {
        Span<byte> plain = buffer.AsSpan(0, range.Length);
        RandomAccess.Read(handle, plain, range.Offset);
        return plain.IndexOfAnyExcept((byte)0) < 0 ? null : Smc.Transfer.ChunkFingerprint.ComputeHex(key, plain);
    }

    public static async Task<int> UploadAsync(string file, string connectionString, int threads, CancellationToken cancellationToken)
    {
        var container = new BlobContainerClient(connectionString, "smc-bench-baseline");
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var clock = Stopwatch.StartNew();
        await container.GetBlobClient(Path.GetFileName(file)).UploadAsync(file, new BlobUploadOptions
        {
            TransferOptions = new StorageTransferOptions { MaximumConcurrency = threads, InitialTransferSize = 4 << 20, MaximumTransferSize = 4 << 20 },
        }, cancellationToken);
        TimeSpan elapsed = clock.Elapsed;
        await container.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        long size = new FileInfo(file).Length;
        Console.Out.WriteLine(JsonSerializer.Serialize(new { bytes = size, seconds = elapsed.TotalSeconds, mbPerSecond = size / 1e6 / elapsed.TotalSeconds }));
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Benchmark: the whole pipeline (plan, read, skip, hash, compress, encrypt, pack) into a sink that drops
    /// the packs. Returns (bytes of used data read, bytes packed, elapsed).
    /// </summary>
    private static async Task<(long Read, long Packed, TimeSpan Elapsed)> MeasurePipelineAsync(IReadOnlyList<string> disks, int compressLevel, string stateDir, CancellationToken cancellationToken)
    {
        using RSA key = DataKeys.NewJobKey();
        var command = new AgentCommand
        {
            CommandId = "benchmark",
            Type = AgentCommandTypes.Replicate,
            JobId = "j-benchmarkaaaaaaa",
            PublicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
            CompressLevel = compressLevel,
            Disks = [.. disks],
        };
        var config = new AgentConfig { Server = "http://127.0.0.1:9", SourceId = "s-benchmark", Credential = "none" };
        using var client = new ControlPlaneClient(config.Server);
        var sink = new CountingSink();
        var runner = new RoundRunner(config, client, command, stateDir, TextWriter.Null, sink);
        Directory.CreateDirectory(stateDir);
        string journalPath = Path.Combine(stateDir, "j-benchmarkaaaaaaa-r0.journal");
        File.Delete(journalPath);
        List<DiskPlan> plans = disks.Select((d, i) => DiskPlan.Build(i, d, command.ChunkSize)).ToList();
        var clock = Stopwatch.StartNew();
        byte[] dataKey = DataKeys.NewDataKey();
        using (RoundJournal journal = RoundJournal.Open(journalPath, () => new JournalHeader { JobId = command.JobId, DataKey = "", WrappedDataKey = "", KeyFingerprint = "", ChunkSize = command.ChunkSize }))
        {
            await runner.PipelineAsync(plans, null, dataKey, ChunkFingerprint.NewKey(), null, journal, new RoundProgress(plans, null), cancellationToken);
        }

        File.Delete(journalPath);
        return (plans.Sum(p => p.PlannedBytes), sink.Bytes, clock.Elapsed);
    }

    /// <summary>
    /// Benchmark: a full round and then an incremental round against it, through the same steps as
    /// <see cref="RoundRunner.RunAsync"/> (journal, resume set, pipeline, manifest written from the journal, fingerprint store,
    /// baseline comparison) with every upload going to a sink that only counts bytes. It is how scripts/bench.sh shows
    /// that the agent's memory does not grow with the number of chunks: run it on a small and a large disk and compare.
    /// </summary>
    private static async Task<RoundsFigures> MeasureRoundsAsync(string disk, int chunkSize, string stateDir, CancellationToken cancellationToken)
    {
        using RSA key = DataKeys.NewJobKey();
        byte[] fingerprintKey = ChunkFingerprint.NewKey();
        var config = new AgentConfig { Server = "http://127.0.0.1:9", SourceId = "s-benchmark", Credential = "none" };
        using var client = new ControlPlaneClient(config.Server);
        Directory.CreateDirectory(stateDir);
        var figures = new RoundsFigures();
        for (int round = 0; round < 2; round++)
        {
            var command = new AgentCommand
            {
                CommandId = "benchmark",
                Type = AgentCommandTypes.Replicate,
                JobId = "j-benchmarkaaaaaaa",
                Round = round,
                BaseRound = round == 0 ? null : round - 1,
                ChunkSize = chunkSize,
                PublicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
                Disks = [disk],
            };
            var sink = new CountingSink();
            var runner = new RoundRunner(config, client, command, stateDir, TextWriter.Null, sink);
            var clock = Stopwatch.StartNew();
            byte[] dataKey = DataKeys.NewDataKey();
            string journalPath = Path.Combine(stateDir, $"{command.JobId}-r{round}.journal");
            using (RoundJournal journal = RoundJournal.Open(journalPath, () => new JournalHeader
            {
                JobId = command.JobId,
                Round = round,
                DataKey = Convert.ToBase64String(dataKey),
                WrappedDataKey = DataKeys.Wrap(dataKey, key),
                KeyFingerprint = DataKeys.Fingerprint(key),
                ChunkSize = chunkSize,
            }))
            {
                List<DiskPlan> plans = [DiskPlan.Build(0, disk, chunkSize)];
                ChunkSet done = journal.DoneChunks(plans);
                using FingerprintStore? baseline = round == 0 ? null : FingerprintStore.Open(runner.Baseline.FingerprintsFile);
                await runner.PipelineAsync(plans, done, dataKey, fingerprintKey, baseline, journal, new RoundProgress(plans, journal), cancellationToken);
                journal.MarkCommitted(await runner.CommitStagingAsync(plans, journal, cancellationToken));
                runner.Baseline.Save(plans, journal);
                figures.Rounds.Add(new RoundFigures(round, clock.Elapsed.TotalSeconds, journal.SentChunks, journal.UnchangedChunks, sink.Bytes, sink.FileBytes,
                    new FileInfo(journalPath).Length, GC.GetTotalMemory(forceFullCollection: true) >> 20, RoundRunner.PeakRssBytes() >> 20));
            }

            File.Delete(journalPath);
        }

        figures.FingerprintStoreBytes = new FileInfo(Path.Combine(stateDir, "j-benchmarkaaaaaaa.fingerprints")).Length;
        figures.PeakRssMiB = RoundRunner.PeakRssBytes() >> 20;
        return figures;
    }

    internal sealed record RoundFigures(int Round, double Seconds, long SentChunks, long UnchangedChunks, long UploadedBytes, long ManifestBytes, long JournalBytes,
        long LiveHeapMiB, long PeakRssMiB);

    internal sealed class RoundsFigures
    {
        public List<RoundFigures> Rounds { get; } = [];

        public long FingerprintStoreBytes { get; set; }

        public long PeakRssMiB { get; set; }
    }

    /// <summary>A staging stand-in that only counts what would be uploaded (bytes of packs and markers; the manifest file's size).</summary>
    private sealed class CountingSink : IStagingSink
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public long FileBytes { get; private set; }

        public Task PutAsync(string blobName, byte[] content, int length, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _bytes, length);
            return Task.CompletedTask;
        }

        public Task PutFileAsync(string blobName, string path, CancellationToken cancellationToken)
        {
            FileBytes = new FileInfo(path).Length;
            return Task.CompletedTask;
        }
    }
}
