using System.Buffers;
using Microsoft.Extensions.Logging;
using Smc.Core.Diagnostics;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>
/// Assembly of a committed round: verify what the agent committed (loaded and checked by <see cref="CommittedRounds"/>)
/// and cut it into slices, then keep and check each slice's packs as its own activity. Every step is idempotent.
/// </summary>
public sealed class SliceAssembly(
    IRecordStore<ReplicationJob> jobs,
    IImageStore imageStore,
    CommittedRounds rounds,
    TimeProvider clock,
    ILogger<SliceAssembly> logger)
{
    private const long SliceBytes = 64L << 20;
    private const int MaxReadBytes = 4 << 20;

    public async Task<AssemblyPlan> VerifyRoundAsync(VerifyRoundInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.VerifyRoundActivity, input.JobId, JobSteps.HostId);
        ReplicationJob? job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value;
        if (job is null || job.Status != JobStatus.Running)
        {
            return new AssemblyPlan(null, [], ErrorCodes.RoundJobNotRunning, "The job is no longer running.");
        }

        RoundContext context;
        try
        {
            context = await rounds.LoadAsync(job, input.Round, input.ManifestSha256, cancellationToken);
        }
        catch (StagingRefusedException e)
        {
            return new AssemblyPlan(null, [], e.Code, e.Message);
        }

        string imageId = Ids.New(Ids.ImagePrefix);
        Stored<ReplicationJob> updated = (await jobs.UpdateAsync(job.JobId, j =>
        {
            ReplicationJobRun run = j.ReplicationJobRuns.First(r => r.Round == input.Round);
            run.ImageId ??= imageId;
            imageId = run.ImageId;
            j.BusinessStatus = BusinessStatus.Processing;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken))!;

        // A slice: the disk's sent chunks [first, first + count) by offset, up to SliceBytes of plaintext.
        var slices = new List<SliceInput>();
        foreach (int disk in context.Index.Disks)
        {
            int first = 0, i = 0;
            long bytes = 0, sent = context.Index.Totals(disk).Sent;
            foreach (ChunkRecord chunk in context.Index.Sent(disk))
            {
                bytes += chunk.Length;
                if (bytes >= SliceBytes || i == sent - 1)
                {
                    slices.Add(new SliceInput(job.JobId, input.Round, input.ManifestSha256, imageId, disk, first, i - first + 1));
                    first = i + 1;
                    bytes = 0;
                }

                i++;
            }
        }

        return new AssemblyPlan(imageId, slices, null, null);
    }

    /// <summary>
    /// One slice of a round: its packs are copied out of staging into the image store (server-side), and every chunk of
    /// the slice is read back from the kept copy and checked (GCM tag, address, length, fingerprint). Nothing is written
    /// but the copies: the image reads the kept packs, so what it serves is exactly what was checked here.
    /// </summary>
    public async Task<SliceResult> AssembleSliceAsync(SliceInput input, CancellationToken cancellationToken)
    {
        logger.ActivityStarted(TaskNames.AssembleSliceActivity, input.JobId, JobSteps.HostId);
        ReplicationJob job = (await jobs.GetAsync(input.JobId, cancellationToken))?.Value ?? throw new InvalidOperationException($"Job {input.JobId} is gone.");
        RoundContext context;
        try
        {
            context = await rounds.LoadAsync(job, input.Round, input.ManifestSha256, cancellationToken);
        }
        catch (StagingRefusedException e)
        {
            return new SliceResult(0, e.Code, e.Message);
        }

        // The slice's records in a pooled buffer (up to SliceBytes / 512 of them): slices of a big round don't each leave
        // a large array for the GC.
        ChunkRecord[] rented = ArrayPool<ChunkRecord>.Shared.Rent(input.ChunkCount);
        try
        {
            context.Index.Sent(input.Disk, input.FirstChunk, rented.AsSpan(0, input.ChunkCount));
            return await AssembleSliceAsync(input, context, new ArraySegment<ChunkRecord>(rented, 0, input.ChunkCount), cancellationToken);
        }
        finally
        {
            ArrayPool<ChunkRecord>.Shared.Return(rented);
        }
    }

    private async Task<SliceResult> AssembleSliceAsync(SliceInput input, RoundContext context, ArraySegment<ChunkRecord> order, CancellationToken cancellationToken)
    {
        foreach (ulong pack in order.Select(c => c.Pack).Distinct())
        {
            try
            {
                await imageStore.KeepPackAsync(input.JobId, input.Round, PackIds.Format(pack), cancellationToken);
            }
            catch (InvalidDataException e)
            {
                return new SliceResult(0, ErrorCodes.StagingPackMissing, $"{e.Message} The manifest names it; nothing was made from the round. Start the job again to upload it anew.");
            }

            await TestHolds.InsideAssemblyAsync(cancellationToken);
        }

        byte[] plain = ArrayPool<byte>.Shared.Rent(ChunkGrid.Max);
        byte[] packBuffer = ArrayPool<byte>.Shared.Rent(MaxReadBytes + ChunkGrid.Max);
        long verified = 0;
        try
        {
            int i = 0;
            while (i < order.Count)
            {
                // Read a run of chunks stored back to back in one pack with one ranged read.
                ChunkRecord head = order[i];
                int runEnd = i + 1;
                long runBytes = head.StoredLength;
                while (runEnd < order.Count)
                {
                    ChunkRecord next = order[runEnd], prev = order[runEnd - 1];
                    if (next.Pack != head.Pack || next.Position != prev.Position + prev.StoredLength || runBytes + next.StoredLength > MaxReadBytes)
                    {
                        break;
                    }

                    runBytes += next.StoredLength;
                    runEnd++;
                }

                try
                {
                    await imageStore.ReadPackAsync(input.JobId, input.Round, head.PackId, head.Position, packBuffer.AsMemory(0, (int)runBytes), cancellationToken: cancellationToken);
                }
                catch (EndOfStreamException)
                {
                    return new SliceResult(verified, ErrorCodes.StagingPackTruncated,
                        $"Pack {head.PackId} of round {input.Round} is shorter than the manifest says (chunk at disk {head.Disk} offset {head.Offset}). Nothing was made from the round; start the job again.");
                }

                long cursor = 0;
                for (int k = i; k < runEnd; k++)
                {
                    ChunkRecord chunk = order[k];
                    try
                    {
                        verified += CommittedRounds.OpenChunk(packBuffer.AsSpan((int)cursor, chunk.StoredLength), input.JobId, input.Round, chunk, context.Keys, plain);
                    }
                    catch (StagingRefusedException e)
                    {
                        return new SliceResult(verified, e.Code, e.Message);
                    }

                    cursor += chunk.StoredLength;
                }

                i = runEnd;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain, clearArray: true);
            ArrayPool<byte>.Shared.Return(packBuffer);
        }

        return new SliceResult(verified, null, null);
    }
}
