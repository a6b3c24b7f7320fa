using System.Diagnostics;
using System.Security.Cryptography;
using Smc.Agent.Control;
using Smc.Transfer;
using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// Runs one round: the journal and its resume set, the disk plans (a container round's tree spooled by
/// <see cref="TreeSpooler"/>), the base round's fingerprints (<see cref="BaselineStore"/>), the chunks through the
/// <see cref="ChunkPipeline"/> (and for mounted file systems the catch-up passes and freeze, RoundRunner.Live.cs), then
/// manifest → commit marker → commit. Resumable through the <see cref="RoundJournal"/>: acknowledged chunks are never
/// sent again.
/// </summary>
internal sealed partial class RoundRunner(AgentConfig config, ControlPlaneClient client, AgentCommand command, string stateDir, TextWriter log, IStagingSink? sink = null)
{
    private readonly string _jobId = command.JobId ?? throw new AgentException(ExitCodes.Failure, "Command without a job id.");

    /// <summary>Write trackers a long-running agent keeps between rounds (null: every round starts its own).</summary>
    public LiveTrackers? Trackers { get; init; }

    private bool _barShown;
    private StagingUploader? _uploader;

    /// <summary>The job's staging container, with its credentials from the control plane.</summary>
    private StagingUploader Uploader => _uploader ??= new StagingUploader(
        async ct => await ControlPlaneClient.ShortRetry.ExecuteAsync(async c => await client.StagingCredentialsAsync(config.Credential, _jobId, c), ct), Log);

    /// <summary>Where packs and the manifest go: the one given (the benchmark's counting sink), else staging.</summary>
    private IStagingSink Staging => sink ?? Uploader;

    private ChunkPipeline? _pipeline;

    /// <summary>The round's chunk pipeline (every pass of a live round goes through the same one).</summary>
    private ChunkPipeline Pipeline => _pipeline ??= new ChunkPipeline(command, _jobId, Staging, log);

    private TreeSpooler Spooler => new(config, client, command, _jobId, stateDir, Log);

    /// <summary>The base round's fingerprints, kept by the agent.</summary>
    internal BaselineStore Baseline => new(config, client, command, _jobId, stateDir, Log);

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
                devices.Add(TreeDevice.Is(d) ? await Spooler.SpoolAsync(cancellationToken) : d);
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
            using FingerprintStore? baseline = await Baseline.OpenAsync(cancellationToken);
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

                await Pipeline.RunAsync(plans, plans.SelectMany(p => p.Chunks).Where(r => !done.Contains(r.Disk, r.Offset)), readers.Read, firstPass,
                    dataKey, fingerprintKey, baseline, journal, progress, cancellationToken, unread);
                consistency = live is null
                    ? new RoundConsistency { Mode = ConsistencyModes.Offline, BytesRead = readers.BytesRead, BytesSent = Pipeline.BytesSent }
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
            Baseline.Save(plans, journal);
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
        File.Delete(Spooler.SpoolPath);

        // A frozen round's tracker goes on marking for the job's next round (a long-running agent keeps it) — only when its
        // own marks made the round: after a fallback (the trace didn't answer under the freeze) they can't be trusted.
        if (Trackers is not null && live?.Tracker is { IsLost: false } && journal.Consistency is { Tracking: "tracepoints", Mode: ConsistencyModes.Frozen or ConsistencyModes.CrashConsistent })
        {
            Trackers.Keep(_jobId, command.Round, devices, live.Detach()!);
        }

        Log($"round {command.Round} committed: {commit.ChunkCount} chunks, {Human(commit.StoredBytes)} stored, {Human(progress.SkippedBytes)} skipped; peak RSS {PeakRssBytes() >> 20} MiB");
        return commit.ManifestSha256;
    }

    /// <summary>The first pass of a round: every planned chunk not acknowledged already, read from the disks.</summary>
    internal async Task PipelineAsync(List<DiskPlan> plans, ChunkSet? done, byte[] dataKey, byte[] fingerprintKey,
        FingerprintStore? baseline, RoundJournal journal, RoundProgress progress, CancellationToken cancellationToken)
    {
        using var readers = new SourceReaders(plans, command.ChunkSize);
        await Pipeline.RunAsync(plans, plans.SelectMany(p => p.Chunks).Where(r => done?.Contains(r.Disk, r.Offset) != true), readers.Read, 0,
            dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
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
                ProgressAnswer? answer = await client.ProgressAsync(config.Credential, _jobId, report, cancellationToken);
                if (answer?.BandwidthLimitKBps is int limit && Pipeline.Limiter.SetLimit(limit))
                {
                    Log(limit == 0 ? "upload limit lifted by the control plane" : $"upload limit now {limit} KB/s (from the control plane)");
                }
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

}
