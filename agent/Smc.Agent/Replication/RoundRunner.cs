using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Smc.Agent.Control;
using Smc.Transfer;
using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// Uploads one round: read → skip free and zero blocks → hash → zstd → AES-256-GCM → pack → parallel upload,
/// as small stages joined by bounded channels with pooled buffers, then manifest → commit marker → commit.
/// Resumable through the <see cref="RoundJournal"/>: acknowledged chunks are never sent again.
/// </summary>
internal sealed partial class RoundRunner(AgentConfig config, ControlPlaneClient client, AgentCommand command, string stateDir, TextWriter log, IStagingSink? sink = null)
{
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

    private readonly string _jobId = command.JobId ?? throw new AgentException(ExitCodes.Failure, "Command without a job id.");

    /// <summary>Write trackers a long-running agent keeps between rounds (null: every round starts its own).</summary>
    public LiveTrackers? Trackers { get; init; }

    private bool _barShown;
    private StagingUploader? _uploader;
    private readonly List<ManifestChunk> _unchangedBatch = [];
    private long _bytesSent;

    /// <summary>The job's staging container, with its credentials from the control plane.</summary>
    private StagingUploader Uploader => _uploader ??= new StagingUploader(
        async ct => await ControlPlaneClient.ShortRetry.ExecuteAsync(async c => await client.StagingCredentialsAsync(config.Credential, _jobId, c), ct), Log);

    /// <summary>Where packs and the manifest go: the one given (the benchmark's counting sink), else staging.</summary>
    private IStagingSink Staging => sink ?? Uploader;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        int chunkSize = command.ChunkSize;
        using RSA publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(Convert.FromBase64String(command.PublicKey ?? throw new AgentException(ExitCodes.Failure, "Command without a public key.")), out _);
        using RoundJournal journal = RoundJournal.Open(Path.Combine(stateDir, $"{_jobId}-r{command.Round}.journal"), () =>
        {
            byte[] key = DataKeys.NewDataKey();
            return new JournalHeader
            {
                JobId = _jobId,
                Round = command.Round,
                DataKey = Convert.ToBase64String(key),
                WrappedDataKey = DataKeys.Wrap(key, publicKey),
                KeyFingerprint = DataKeys.Fingerprint(publicKey),
                ChunkSize = chunkSize,
            };
        });
        if (journal.Header.KeyFingerprint != DataKeys.Fingerprint(publicKey) || journal.Header.ChunkSize != chunkSize)
        {
            throw new AgentException(ExitCodes.Failure, $"The checkpoint for {_jobId} round {command.Round} belongs to another key; delete {stateDir} and start the job again.");
        }

        List<DiskPlan> plans;
        LiveCapture? live = null;
        var devices = new List<string>();
        try
        {
            foreach (string d in command.Disks)
            {
                devices.Add(TreeDevice.Is(d) ? await SpoolTreeAsync(cancellationToken) : d);
            }

            // Disks with mounted file systems change while read: their writes are tracked from before anything of them
            // (the kernel's space map included) is read.
            if (journal.CommittedManifestSha256 is null)
            {
                live = LiveCapture.Start(devices, chunkSize, Trackers?.Take(_jobId, command.BaseRound, devices));
            }

            plans = devices.Select((d, i) => DiskPlan.Build(i, d, chunkSize, live?.Disks[i])).ToList();
            if (live is not null)
            {
                HoldAfterPlanning();
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            string message = $"A source disk can't be opened ({e.Message}). Check that the disks the job names exist on the source and that the agent runs as root.";
            live?.Dispose();
            await ReportFailureAsync(RoundFailureCodes.SourceUnavailable, message, cancellationToken);
            throw new AgentException(ExitCodes.DiskError, message, e);
        }

        using LiveCapture? liveRound = live;

        ChunkSet done = journal.DoneChunks(plans);
        var progress = new RoundProgress(plans, journal);
        int firstPass = 0;
        if (live is not null && journal.CommittedManifestSha256 is null && journal.SentChunks + journal.UnchangedChunks > 0)
        {
            // A live round another process began: nobody tracked what was written since it read, so all of it is read again.
            firstPass = journal.LastPass + 1;
            journal.BeginPass(firstPass, null);
            done = new ChunkSet(plans, chunkSize);
            Log($"round {command.Round}: resuming a round of mounted file systems; what was read before is read again (its writes weren't tracked meanwhile)");
        }

        if (journal.CommittedManifestSha256 is null)
        {
            Log($"round {command.Round} of {_jobId}: {plans.Count} disk(s), {Human(plans.Sum(p => p.SizeBytes))} in all, {Human(plans.Sum(p => p.PlannedBytes))} in use to read"
                + $", zstd {(SystemZstd.IsAvailable ? "system" : "managed")}"
                + (done.Count > 0 ? $"; resuming: {done.Count} chunk(s) already uploaded" : ""));
            foreach (string note in plans.SelectMany(p => p.Notes.Select(n => $"disk {p.Index} {n}")))
            {
                Log(note);
            }

            if (live is not null)
            {
                Log(live.Tracker is not null
                    ? $"mounted file systems: {string.Join(", ", plans.Where(p => p.Live is not null).SelectMany(p => p.Live!.Volumes).Select(v => $"{v.MountPoint} ({v.FileSystem})"))}; writes tracked with the block tracepoints"
                    : $"mounted file systems, but writes can't be tracked: {live.TrackingUnavailable}");
            }

            byte[] dataKey = Convert.FromBase64String(journal.Header.DataKey);
            byte[] fingerprintKey = Convert.FromBase64String((await Uploader.CredentialsAsync(cancellationToken)).FingerprintKey);
            using FingerprintStore? baseline = await BaselineAsync(cancellationToken);
            using var reporter = new CancellationTokenSource();
            Task reporting = ReportAsync(progress, reporter.Token);
            RoundConsistency consistency;
            try
            {
                using var readers = new SourceReaders(plans, chunkSize);
                var firstPassClock = Stopwatch.StartNew();
                // An incremental round whose tracker ran since the base round's freeze reads only the cells it saw
                // written; every other planned chunk the base round has at the same place is its chunk, unread.
                Func<ChunkRange, string?>? unread = null;
                string? changeDetection = null, scanReason = null;
                if (live is not null && baseline is not null)
                {
                    if (live.Since is { } since && firstPass == 0 && live.Tracker is not null)
                    {
                        changeDetection = "tracked";
                        unread = r =>
                        {
                            DiskPlan p = plans[r.Disk];
                            return p.Live is not null && r.Offset != 0 && r.Offset + r.Length < p.SizeBytes && !since.Of(r.Disk).ContainsKey(r.Offset / chunkSize)
                                ? baseline.Find(r.Disk, r.Offset, r.Length, p.SizeBytes) : null;
                        };
                        Log($"round {command.Round}: writes tracked since round {command.BaseRound}'s freeze: {since.CellCount} cell(s) written; only those are read");
                    }
                    else
                    {
                        changeDetection = "scan";
                        scanReason = firstPass > 0 ? "the round was resumed by another process" : live.Tracker is null ? live.TrackingUnavailable : "writes since the previous round were not tracked (the agent restarted, or its trace lost events)";
                    }
                }

                await PipelineAsync(plans, plans.SelectMany(p => p.Chunks).Where(r => !done.Contains(r.Disk, r.Offset)), readers.Read, firstPass,
                    dataKey, fingerprintKey, baseline, journal, progress, cancellationToken, unread);
                consistency = live is null
                    ? new RoundConsistency { Mode = ConsistencyModes.Offline, BytesRead = readers.BytesRead, BytesSent = Interlocked.Read(ref _bytesSent) }
                    : await CatchUpAsync(live, plans, readers, firstPass, firstPassClock.Elapsed, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
                consistency.ChangeDetection = changeDetection;
                consistency.ChangeDetectionReason = scanReason;
                journal.SetConsistency(consistency);
                if (live is not null)
                {
                    Log($"round {command.Round}: {consistency.Mode}{(consistency.Reason is null ? "" : $" ({consistency.Reason})")}; {consistency.CatchUpPasses} catch-up pass(es)"
                        + (consistency.FreezeWindowMs is long ms ? $", frozen {ms} ms" : "") + $"; read {Human(consistency.BytesRead)}, sent {Human(consistency.BytesSent)}");
                }
            }
            catch (AgentException e) when (e.ExitCode == ExitCodes.DiskError)
            {
                // Retrying won't make an unreadable region readable: the job ends InError with the region named.
                await ReportFailureAsync(RoundFailureCodes.SourceReadError, e.Message, cancellationToken);
                throw;
            }
            finally
            {
                await reporter.CancelAsync();
                await reporting;
                CryptographicOperations.ZeroMemory(dataKey);
                CryptographicOperations.ZeroMemory(fingerprintKey);
            }

            string manifestSha = await CommitStagingAsync(plans, journal, cancellationToken);
            journal.MarkCommitted(manifestSha);

            // Kept before the commit call: if the control plane refuses the round, the next command names another base
            // round than this file and the agent asks the control plane instead.
            SaveFingerprints(plans, journal);
            if (journal.UnchangedChunks > 0 || baseline is not null)
            {
                Log($"round {command.Round}: {journal.UnchangedChunks} chunk(s) unchanged since round {command.BaseRound}, {journal.SentChunks} sent");
            }
        }

        (long sentChunks, long storedBytes, _, _) = journal.Totals();
        var commit = new RoundCommitRequest
        {
            ManifestSha256 = journal.CommittedManifestSha256!,
            ChunkCount = checked((int)sentChunks),
            StoredBytes = storedBytes,
            Consistency = journal.Consistency,
        };
        await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.CommitAsync(config.Credential, _jobId, command.Round, commit, ct), cancellationToken);
        File.Delete(SpoolPath);

        // A frozen round's tracker goes on marking for the job's next round (a long-running agent keeps it) — only when its
        // own marks made the round: after a fallback (the trace didn't answer under the freeze) they can't be trusted.
        if (Trackers is not null && live?.Tracker is { IsLost: false } && journal.Consistency is { Tracking: "tracepoints", Mode: ConsistencyModes.Frozen or ConsistencyModes.CrashConsistent })
        {
            Trackers.Keep(_jobId, command.Round, devices, live.Detach()!);
        }

        Log($"round {command.Round} committed: {commit.ChunkCount} chunks, {Human(commit.StoredBytes)} stored, {Human(progress.SkippedBytes)} skipped; peak RSS {PeakRssBytes() >> 20} MiB");
        return commit.ManifestSha256;
    }

    /// <summary>Where a container round's tar is kept until the round is committed (a resumed round reads the same one).</summary>
    private string SpoolPath => Path.Combine(stateDir, $"{_jobId}-r{command.Round}.tar");

    /// <summary>Where the listing of a round's capture is kept: the next round's layer holds what differs from it.</summary>
    private string ListingPath(int round) => Path.Combine(stateDir, $"{_jobId}-r{round}.listing.json");

    /// <summary>
    /// The file-level capture of a container round, once per round: the root tree as one tar (Smc.Files.TreeTar) in the
    /// state directory — the whole tree, or with a layer base only what changed since that round's listing (whiteouts for
    /// what is gone). A resumed round reuses it, so what was uploaded and what is left belong to one capture.
    /// </summary>
    private async Task<string> SpoolTreeAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(SpoolPath))
        {
            Log($"round {command.Round}: the file system was captured already ({Human(new FileInfo(SpoolPath).Length)} of tar)");
            return SpoolPath;
        }

        string root = config.Root ?? "/";
        var skip = new List<string> { Path.GetFullPath(stateDir) };
        var skipFiles = new List<string>();
        if (Environment.ProcessPath is { } self)
        {
            skipFiles.Add(self);
        }

        if (root == "/" && File.Exists("/proc/swaps"))
        {
            skipFiles.AddRange(File.ReadAllLines("/proc/swaps").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 1 && f[1] == "file").Select(f => f[0]));
        }

        Smc.Files.TreeListing? previous = null;
        if (command.LayerBase is int layerBase)
        {
            try
            {
                previous = File.Exists(ListingPath(layerBase)) ? Smc.Files.TreeListing.Deserialize(File.ReadAllBytes(ListingPath(layerBase))) : null;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                Log($"local listing of round {layerBase} unreadable ({e.Message}); asking the control plane");
            }

            if (previous is null)
            {
                Log($"round {command.Round}: the listing of round {layerBase} is not kept here; fetching it from the control plane");
                previous = await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.ListingAsync(config.Credential, _jobId, layerBase, ct), cancellationToken);
            }
        }

        string partial = SpoolPath + ".partial";
        Smc.Files.TreeCaptureStats stats;
        await using (FileStream output = new(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
        {
            stats = await Smc.Files.TreeTar.WriteAsync(root, output, new Smc.Files.TreeCaptureOptions
            {
                Exclude = [.. skip.Where(p => p.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal)).Select(p => p[root.TrimEnd('/').Length..]), .. command.ExcludePaths],
                Include = command.IncludePaths,
                SkipFiles = skipFiles,
            }, previous, cancellationToken);
        }

        // This capture's listing first, then its tar: a tar on disk always has its listing beside it. Listings of other
        // rounds go (the control plane names this round, or asks for a whole tree, from now on).
        string listingTemp = ListingPath(command.Round) + ".tmp";
        await File.WriteAllBytesAsync(listingTemp, stats.Listing.Serialize(), cancellationToken);
        File.Move(listingTemp, ListingPath(command.Round), overwrite: true);
        File.Move(partial, SpoolPath, overwrite: true);
        foreach (string old in Directory.EnumerateFiles(stateDir, $"{_jobId}-r*.listing.json").Where(f => f != ListingPath(command.Round) && (command.LayerBase is not int b || f != ListingPath(b))))
        {
            File.Delete(old);
        }

        Log($"round {command.Round}: captured {root}{(previous is null ? "" : $" against round {command.LayerBase}")}: {stats.Files} files, {stats.Directories} directories, {stats.Symlinks} symlinks, {stats.HardLinks} hard links, {Human(stats.Bytes)}"
            + (previous is null ? "" : $"; {stats.Unchanged} unchanged, {stats.Whiteouts} removed")
            + $"; {stats.Skipped.Count} path(s) left out");
        return SpoolPath;
    }

    /// <summary>Reads a chunk of a source disk into a buffer of its length.</summary>
    internal delegate void ChunkReader(ChunkRange range, Span<byte> buffer);

    /// <summary>The first pass of a round: every planned chunk not acknowledged already, read from the disks.</summary>
    internal async Task PipelineAsync(List<DiskPlan> plans, ChunkSet? done, byte[] dataKey, byte[] fingerprintKey,
        FingerprintStore? baseline, RoundJournal journal, RoundProgress progress, CancellationToken cancellationToken)
    {
        using var readers = new SourceReaders(plans, command.ChunkSize);
        await PipelineAsync(plans, plans.SelectMany(p => p.Chunks).Where(r => done?.Contains(r.Disk, r.Offset) != true), readers.Read, 0,
            dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
    }

    /// <param name="pass">0 for the first read of the disks; a catch-up pass (&gt; 0) sends all-zero chunks too, since each replaces one read before.</param>
    /// <param name="unread">Chunks taken as the base round's without reading them: their fingerprint, or null to read.</param>
    private async Task PipelineAsync(List<DiskPlan> plans, IEnumerable<ChunkRange> chunks, ChunkReader read, int pass, byte[] dataKey, byte[] fingerprintKey,
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
        var limiter = new BandwidthLimiter(command.BandwidthLimitKBps);

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
                        int length = ChunkCodec.Seal(plain.AsSpan(0, range.Length), new ChunkAddress(_jobId, command.Round, range.Disk, range.Offset, range.Length), dataKey, command.CompressLevel, frame, SystemZstd.Preferred);
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
                        await Staging.PutAsync(StagingNames.Pack(command.Round, p.PackId), p.Buffer, p.Length, ct);
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

    /// <summary>Peak resident memory of this process (VmHWM), logged with each round and printed by the benchmark.</summary>
    internal static long PeakRssBytes()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
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
    /// Manifest, then commit marker. The manifest is written from the journal to a file in the state directory and
    /// uploaded from there, so a round of any size is never held in memory.
    /// </summary>
    internal async Task<string> CommitStagingAsync(List<DiskPlan> plans, RoundJournal journal, CancellationToken cancellationToken)
    {
        var totals = journal.Totals();
        var manifest = new RoundManifest
        {
            FormatVersion = command.BaseRound is null ? RoundManifest.FullRoundFormatVersion : RoundManifest.CurrentFormatVersion,
            JobId = _jobId,
            Round = command.Round,
            BaseRound = command.BaseRound,
            WrappedDataKey = journal.Header.WrappedDataKey,
            KeyFingerprint = journal.Header.KeyFingerprint,
            ChunkSize = command.ChunkSize,
            Disks = plans.Select(p => new ManifestDisk
            {
                Index = p.Index,
                SizeBytes = p.SizeBytes,
                Source = p.Info,
                ScannedBytes = p.SizeBytes,
                SkippedBytes = p.SizeBytes - totals.Covered.GetValueOrDefault(p.Index),
            }).ToList(),
            CreatedAt = DateTimeOffset.UtcNow,
            AgentVersion = AgentInfo.Version,
        };
        string path = Path.Combine(stateDir, $"{_jobId}-r{command.Round}.manifest.json");
        string sha;
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            StagingJson.WriteManifest(file, manifest, journal.Entries());
            file.Position = 0;
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        }

        await Staging.PutFileAsync(StagingNames.Manifest(command.Round), path, cancellationToken);
        File.Delete(path);
        var marker = new CommitMarker
        {
            FormatVersion = 1,
            Round = command.Round,
            ManifestSha256 = sha,
            ChunkCount = checked((int)(totals.SentChunks + totals.UnchangedChunks)),
            StoredBytes = totals.StoredBytes,
            CommittedAt = DateTimeOffset.UtcNow,
        };
        byte[] markerBytes = StagingJson.Serialize(marker);
        await Staging.PutAsync(StagingNames.Commit(command.Round), markerBytes, markerBytes.Length, cancellationToken);
        return sha;
    }

    internal string FingerprintsFile => Path.Combine(stateDir, $"{_jobId}.fingerprints");

    /// <summary>
    /// What this round compares with: the base round's fingerprints, from the agent's own store or, when that is gone
    /// (reinstall, new state disk), from the control plane (kept as the store from then on). Null for a full round.
    /// </summary>
    private async Task<FingerprintStore?> BaselineAsync(CancellationToken cancellationToken)
    {
        if (command.BaseRound is not int baseRound)
        {
            return null;
        }

        File.Delete(Path.Combine(stateDir, $"{_jobId}.fingerprints.json")); // the whole-JSON copy earlier agents kept
        FingerprintStore? known = null;
        try
        {
            known = FingerprintStore.Open(FingerprintsFile);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            Log($"local fingerprints unreadable ({e.Message}); asking the control plane");
        }

        if (known is not null && (known.Header.Round != baseRound || known.Header.JobId != _jobId || known.Header.ChunkSize != command.ChunkSize))
        {
            known.Dispose();
            known = null;
        }

        if (known is null)
        {
            Log($"round {command.Round}: fingerprints of round {baseRound} not kept here; fetching them from the control plane");
            string download = FingerprintsFile + ".download";
            await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.DownloadFingerprintsAsync(config.Credential, _jobId, baseRound, download, ct), cancellationToken);
            try
            {
                FingerprintsDocument.Head head = FingerprintsDocument.ReadHead(download);
                FingerprintStore.Write(FingerprintsFile, head.JobId!, head.Round!.Value, head.ChunkSize, head.DiskSizes!,
                    add => FingerprintsDocument.ReadChunks(download, c => add(c.Disk, c.Offset, c.Length, c.Fingerprint)));
            }
            catch (InvalidDataException e)
            {
                throw new AgentException(ExitCodes.Failure, $"The control plane's fingerprints of round {baseRound} can't be read ({e.Message}).", e);
            }
            finally
            {
                File.Delete(download);
            }

            known = FingerprintStore.Open(FingerprintsFile)!;
        }

        return known;
    }

    /// <summary>
    /// A chunk may be left out when its fingerprint equals the base round's at the same place. The first and last chunk
    /// of a disk (partition tables) are always sent: the assembler rebuilds tables from them each round.
    /// </summary>
    private static bool IsUnchanged(FingerprintStore? baseline, DiskPlan plan, ChunkRange range, ReadOnlySpan<byte> fingerprint) =>
        baseline is not null
        && range.Offset != 0 && range.Offset + range.Length < plan.SizeBytes
        && baseline.Matches(range.Disk, range.Offset, range.Length, fingerprint, plan.SizeBytes);

    /// <summary>The committed round's fingerprints, streamed from its journal into the agent's store.</summary>
    internal void SaveFingerprints(List<DiskPlan> plans, RoundJournal journal) =>
        FingerprintStore.Write(FingerprintsFile, _jobId, command.Round, command.ChunkSize, [.. plans.Select(p => p.SizeBytes)],
            journal.Entries().Select(c => (c.Disk, c.Offset, c.Length, c.Fingerprint)));

    /// <summary>Tells the control plane the round can't finish (best effort: the agent's exit code says it too).</summary>
    private async Task ReportFailureAsync(string code, string message, CancellationToken cancellationToken)
    {
        Log($"round {command.Round} of {_jobId} failed: {message}");
        try
        {
            var request = new RoundFailureRequest { ErrorCode = code, Message = message.Length > 1000 ? message[..1000] : message };
            await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.FailRoundAsync(config.Credential, _jobId, command.Round, request, ct), cancellationToken);
        }
        catch (Exception e) when (e is ControlPlaneException or HttpRequestException or TaskCanceledException)
        {
            Log($"could not report the failure to the control plane ({e.Message})");
        }
    }

    private async Task ReportAsync(RoundProgress progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            ProgressReport report = progress.Snapshot(command.Round, clock.Elapsed);
            if (ReferenceEquals(log, Console.Error) && !Console.IsErrorRedirected)
            {
                // A terminal: one bar, redrawn in place.
                int columns = Console.WindowWidth < 40 ? 100 : Math.Min(Console.WindowWidth, 160);
                Console.Error.Write("\r" + progress.Bar(report, columns - 1));
                _barShown = true;
            }
            else
            {
                Log(progress.Describe(report));
            }
            try
            {
                await client.ProgressAsync(config.Credential, _jobId, report, cancellationToken);
            }
            catch (ControlPlaneException)
            {
                // Progress is best effort; the next report carries it.
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void Log(string message)
    {
        if (_barShown)
        {
            log.WriteLine();
            _barShown = false;
        }

        log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {message}");
    }


    internal static string Human(long bytes) => Commands.InspectCommand.Bytes(bytes);

    private sealed record SealedChunk(ChunkRange Range, string Fingerprint, byte[] Frame, int Length);

    private sealed record PendingPack(string PackId, byte[] Buffer, int Length, List<ManifestChunk> Chunks);
}
