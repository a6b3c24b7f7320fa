using System.Diagnostics;
using System.Text.Json;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Smc.Agent.Replication;

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
        (long read, long packed, TimeSpan elapsed) = await RoundRunner.MeasurePipelineAsync(disks, compressLevel, state, cancellationToken);
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

    /// <summary>A full and an unchanged incremental round of one disk (<see cref="RoundRunner.MeasureRoundsAsync"/>).</summary>
    public static async Task<int> RoundsAsync(IReadOnlyList<string> disks, int chunkKiB, CancellationToken cancellationToken)
    {
        if (disks.Count != 1)
        {
            throw new AgentException(ExitCodes.Usage, "benchmark rounds takes one --disk.");
        }

        string state = Path.Combine(Path.GetTempPath(), $"smc-bench-{Environment.ProcessId}");
        try
        {
            RoundRunner.RoundsFigures figures = await RoundRunner.MeasureRoundsAsync(disks[0], chunkKiB << 10, state, cancellationToken);
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
}
