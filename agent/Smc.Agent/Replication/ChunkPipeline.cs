using System.Buffers;
using System.Threading.Channels;
using Smc.Transfer;
using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// The chunk pipeline of a round: read → skip free and zero blocks → fingerprint (unchanged since the base round: noted,
/// not sent) → zstd → AES-256-GCM → pack → parallel upload, as stages joined by bounded channels with pooled buffers.
/// Every pack storage acknowledged goes into the <see cref="RoundJournal"/> before the next is counted, so a resumed
/// round never sends it again. One failure in any stage cancels the others and is the one reported.
/// </summary>
internal sealed class ChunkPipeline(AgentCommand command, string jobId, IStagingSink staging, TextWriter log)
{
    /// <summary>The round's upload limit, one for all its passes; the control plane may change it mid-round.</summary>
    public BandwidthLimiter Limiter { get; } = new(command.BandwidthLimitKBps);

    /// <summary>
    /// Upload streams when the job doesn't say: Azurite reached the same 40–45 MB/s with 1, 4 or 8 parallel
    /// 4 MiB uploads (measured on these machines), and Azure Blob storage scales with parallel requests; 4 streams of
    /// 4 MiB keep a WAN link busy while holding under 40 MiB of packs in memory.
    /// </summary>
    private const int DefaultThreads = 4;

    /// <summary>
    /// Upload streams at most, whatever the job asks (the API takes up to 64): each stream holds one pack and the queue
    /// before them at most <see cref="QueuedPacks"/>, so packs in memory stay under (16 + 4 + 1) × 4 MiB = 84 MiB and the
    /// agent under its 256 MiB budget (scripts/bench.sh measures 4 and 64 requested threads: 180 and 221 MiB). More
    /// streams than 16 were not measured to help one source; Azure Blob storage limits throughput per blob, and each
    /// pack is its own blob, so 16 parallel packs already spread the load.
    /// </summary>
    internal const int MaxStreams = 16;

    private const int QueuedPacks = 4;
    private const int PackBytes = 4 << 20;

    /// <summary>
    /// Chunks in one pack at most. Highly compressible chunks (a few hundred bytes stored each) would otherwise put tens
    /// of thousands in one 4 MiB pack, and each pack in flight carries its chunk list (and its journal line) in memory:
    /// the memory budget is per pack, so it must not depend on how well the data compresses.
    /// </summary>
    private const int PackChunks = 1024;

    /// <summary>Unchanged chunks noted in the journal per line (the same bound on a line's size as <see cref="PackChunks"/>).</summary>
    private const int UnchangedBatch = PackChunks;

    private readonly List<ManifestChunk> _unchangedBatch = [];
    private long _bytesSent;

    /// <summary>Bytes of chunk content sent to staging by this pipeline (all passes).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Reads a chunk of a source disk into a buffer of its length.</summary>
    internal delegate void ChunkReader(ChunkRange range, Span<byte> buffer);

    /// <param name="pass">0 for the first read of the disks; a catch-up pass (&gt; 0) sends all-zero chunks too, since each replaces one read before.</param>
    /// <param name="unread">Chunks taken as the base round's without reading them: their fingerprint, or null to read.</param>
    public async Task RunAsync(List<DiskPlan> plans, IEnumerable<ChunkRange> chunks, ChunkReader read, int pass, byte[] dataKey, byte[] fingerprintKey,
        FingerprintStore? baseline, RoundJournal journal, RoundProgress progress, CancellationToken cancellationToken, Func<ChunkRange, string?>? unread = null)
    {
        int threads = Math.Min(command.Threads > 0 ? command.Threads : DefaultThreads, MaxStreams);
        if (command.Threads > MaxStreams)
        {
            log.WriteLine($"{command.Threads} threads asked; uploading with {MaxStreams} streams (the agent's memory budget).");
        }

        int sealers = Math.Clamp(Environment.ProcessorCount, 1, 8);
        var work = Channel.CreateBounded<ChunkRange>(sealers * 4);
        var sealedChunks = Channel.CreateBounded<SealedChunk>(sealers * 2);
        var packs = Channel.CreateBounded<PendingPack>(Math.Min(threads, QueuedPacks));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken ct = linked.Token;
        BandwidthLimiter limiter = Limiter;

        // Every stage cancels the others when it fails, so one failure (an unreadable block, a refused upload) stops
        // the round at once instead of leaving the stages before it blocked on a full channel.
        Task Stage(Func<Task> body) => Task.Run(async () =>
        {
            try
            {
                await body();
            }
            catch
            {
                await linked.CancelAsync();
                throw;
            }
        }, ct);

        try
        {
            Task produce = Stage(async () =>
            {
                try
                {
                    foreach (ChunkRange range in chunks)
                    {
                        if (unread?.Invoke(range) is { } known)
                        {
                            Unchanged(journal, new ManifestChunk { Disk = range.Disk, Offset = range.Offset, Length = range.Length, Fingerprint = known }, pass, flush: false);
                            progress.Unchanged(range);
                            continue;
                        }

                        await work.Writer.WriteAsync(range, ct);
                    }
                }
                finally
                {
                    work.Writer.TryComplete();
                }
            });

            Task[] seal = Enumerable.Range(0, sealers).Select(_ => Stage(async () =>
            {
                byte[] plain = ArrayPool<byte>.Shared.Rent(command.ChunkSize);
                byte[] print = new byte[ChunkFingerprint.Length];
                try
                {
                    await foreach (ChunkRange range in work.Reader.ReadAllAsync(ct))
                    {
                        read(range, plain.AsSpan(0, range.Length));
                        if (pass == 0 && plain.AsSpan(0, range.Length).IndexOfAnyExcept((byte)0) < 0)
                        {
                            progress.Skipped(range);
                            continue;
                        }

                        ChunkFingerprint.Compute(fingerprintKey, plain.AsSpan(0, range.Length), print);
                        string fingerprint = Convert.ToHexStringLower(print);
                        if (IsUnchanged(baseline, plans[range.Disk], range, print))
                        {
                            Unchanged(journal, new ManifestChunk { Disk = range.Disk, Offset = range.Offset, Length = range.Length, Fingerprint = fingerprint }, pass, flush: false);
                            progress.Unchanged(range);
                            continue;
                        }

                        byte[] frame = ArrayPool<byte>.Shared.Rent(ChunkCodec.MaxFrameLength(range.Length));
                        int length = ChunkCodec.Seal(plain.AsSpan(0, range.Length), new ChunkAddress(jobId, command.Round, range.Disk, range.Offset, range.Length), dataKey, command.CompressLevel, frame, SystemZstd.Preferred);
                        await sealedChunks.Writer.WriteAsync(new SealedChunk(range, fingerprint, frame, length), ct);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(plain, clearArray: true);
                }
            })).ToArray();
            Task sealingDone = Task.WhenAll(seal).ContinueWith(t => sealedChunks.Writer.TryComplete(t.Exception), TaskScheduler.Default);

            Task pack = Stage(async () =>
            {
                var builder = new PackBuilder(PackBytes);
                var entries = new List<(SealedChunk Chunk, long Position)>();
                try
                {
                    await foreach (SealedChunk chunk in sealedChunks.Reader.ReadAllAsync(ct))
                    {
                        long position = 0;
                        if (entries.Count == PackChunks || !builder.TryAdd(chunk.Frame.AsSpan(0, chunk.Length), out position))
                        {
                            await packs.Writer.WriteAsync(Finish(builder, entries), ct);
                            builder.TryAdd(chunk.Frame.AsSpan(0, chunk.Length), out position);
                        }

                        entries.Add((chunk, position));
                        ArrayPool<byte>.Shared.Return(chunk.Frame);
                    }

                    if (builder.Count > 0)
                    {
                        await packs.Writer.WriteAsync(Finish(builder, entries), ct);
                    }
                }
                finally
                {
                    packs.Writer.TryComplete();
                }
            });

            Task[] upload = Enumerable.Range(0, threads).Select(_ => Stage(async () =>
            {
                await foreach (PendingPack p in packs.Reader.ReadAllAsync(ct))
                {
                    try
                    {
                        await limiter.WaitAsync(p.Length, ct);
                        await staging.PutAsync(StagingNames.Pack(command.Round, p.PackId), p.Buffer, p.Length, ct);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(p.Buffer);
                    }

                    journal.AddPack(p.Chunks, pass);
                    progress.Uploaded(p.Chunks, p.Length);
                    Interlocked.Add(ref _bytesSent, p.Chunks.Sum(c => (long)c.Length));
                }
            })).ToArray();

            Task[] stages = [produce, .. seal, sealingDone, pack, .. upload];
            try
            {
                await Task.WhenAll(stages);
            }
            catch (Exception first)
            {
                // Report the failure that stopped the round, not the cancellations it caused in the other stages.
                Exception cause = stages.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.Flatten().InnerExceptions)
                    .FirstOrDefault(e => e is not OperationCanceledException) ?? first;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            }
        }
        finally
        {
            Unchanged(journal, null, pass, flush: true);
        }
    }

    /// <summary>Notes an unchanged chunk in the journal, <see cref="UnchangedBatch"/> per line (a lost batch is only compared again).</summary>
    private void Unchanged(RoundJournal journal, ManifestChunk? chunk, int pass, bool flush)
    {
        ManifestChunk[] batch;
        lock (_unchangedBatch)
        {
            if (chunk is not null)
            {
                _unchangedBatch.Add(chunk);
            }

            if (_unchangedBatch.Count < UnchangedBatch && !flush)
            {
                return;
            }

            batch = [.. _unchangedBatch];
            _unchangedBatch.Clear();
        }

        journal.AddUnchanged(batch, pass);
    }

    private static PendingPack Finish(PackBuilder builder, List<(SealedChunk Chunk, long Position)> entries)
    {
        string id = PackIds.New();
        var chunks = entries.Select(e => new ManifestChunk
        {
            Disk = e.Chunk.Range.Disk,
            Offset = e.Chunk.Range.Offset,
            Length = e.Chunk.Range.Length,
            Pack = id,
            Position = e.Position,
            StoredLength = e.Chunk.Length,
            Fingerprint = e.Chunk.Fingerprint,
        }).ToList();
        // Pack buffers come from the pool (4 MiB arrays would otherwise churn the large-object heap).
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)builder.Length);
        builder.Content.Span.CopyTo(buffer);
        var pending = new PendingPack(id, buffer, (int)builder.Length, chunks);
        builder.Reset();
        entries.Clear();
        return pending;
    }

    /// <summary>
    /// A chunk may be left out when its fingerprint equals the base round's at the same place. The first and last chunk
    /// of a disk (partition tables) are always sent: the assembler rebuilds tables from them each round.
    /// </summary>
    private static bool IsUnchanged(FingerprintStore? baseline, DiskPlan plan, ChunkRange range, ReadOnlySpan<byte> fingerprint) =>
        baseline is not null
        && range.Offset != 0 && range.Offset + range.Length < plan.SizeBytes
        && baseline.Matches(range.Disk, range.Offset, range.Length, fingerprint, plan.SizeBytes);

    private sealed record SealedChunk(ChunkRange Range, string Fingerprint, byte[] Frame, int Length);

    private sealed record PendingPack(string PackId, byte[] Buffer, int Length, List<ManifestChunk> Chunks);
}
