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
        }));
        return ExitCodes.Ok;
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
