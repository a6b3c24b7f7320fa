using System.Buffers;
using System.Diagnostics;
using Smc.Agent.Platform.Live;
using Smc.Disks;
using Smc.Transfer;
using Smc.Wire.Agent;

namespace Smc.Agent.Replication;

/// <summary>
/// A round of disks whose file systems are mounted and changing: writes are tracked from before the first read
/// (<see cref="WriteTracker"/>), what was written meanwhile is read again in catch-up passes, and the last catch-up
/// runs under <c>FIFREEZE</c> with a watchdog armed, so the round's image is each file system as at its freeze instant.
/// </summary>
internal sealed partial class RoundRunner
{
    /// <summary>What a freeze may hold in memory: the frozen catch-up is read into memory and sent after the thaw (the state directory may be on a frozen file system).</summary>
    internal const long FrozenReadCap = 96L << 20;

    /// <summary>Live catch-up passes before the agent freezes whatever is left (and records the round inconsistent if it doesn't fit).</summary>
    private const int MaxCatchUpPasses = 8;

    /// <summary>
    /// After the first pass: catch up until what was written since fits a freeze, then freeze, read it, thaw, send it.
    /// Returns what the round is.
    /// </summary>
    private async Task<RoundConsistency> CatchUpAsync(LiveCapture live, List<DiskPlan> plans, SourceReaders readers, int pass, TimeSpan firstPass,
        byte[] dataKey, byte[] fingerprintKey, FingerprintStore? baseline, RoundJournal journal, RoundProgress progress, CancellationToken cancellationToken)
    {
        TimeSpan window = TimeSpan.FromSeconds(Math.Clamp(command.FreezeWindowSeconds, 1, 60));
        double rate = Math.Max(20e6, readers.BytesRead / Math.Max(0.001, firstPass.TotalSeconds));
        long budget = Math.Min(FrozenReadCap, (long)(rate * window.TotalSeconds * 0.5));
        List<LiveVolume> volumes = [.. plans.Where(p => p.Live is not null).SelectMany(p => p.Live!.Volumes)];
        int passes = 0, retries = 0;
        string? hookProblem = null;
        var reread = new RereadRanges(command.ChunkSize);

        async Task LivePassAsync(List<ChunkRange> chunks)
        {
            chunks = reread.Widen(chunks);
            reread.Add(chunks);
            passes++;
            pass++;
            journal.BeginPass(pass, chunks);
            await Pipeline.RunAsync(plans, chunks, readers.Read, pass, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
        }

        for (int attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (live.Tracker is not { } tracker || tracker.IsLost)
            {
                string why = live.Tracker is null ? live.TrackingUnavailable ?? "write tracking is not available" : "the write trace lost events";
                return await RereadUnderFreezeAsync(plans, readers, volumes, why, window, rate, passes, retries, pass, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
            }

            bool lastChance = attempt >= MaxCatchUpPasses;
            if (tracker.PendingBytes() > budget && !lastChance)
            {
                await LivePassAsync(CatchUpChunks(plans, tracker.Take()));
                continue;
            }

            if (command.PreFreezeCommand is { Length: > 0 } pre && await RunHookAsync("pre-freeze", pre, cancellationToken) is { } failed)
            {
                if (command.PostThawCommand is { Length: > 0 } post)
                {
                    await RunHookAsync("post-thaw", post, cancellationToken);
                }

                if (!command.ContinueOnHookFailure)
                {
                    string message = $"The job's pre-freeze command failed ({failed}); the round was not taken. Fix the command, or set continueOnHookFailure to take crash-consistent rounds.";
                    await ReportFailureAsync(RoundFailureCodes.PreFreezeHookFailed, message, cancellationToken);
                    throw new AgentException(ExitCodes.Failure, message);
                }

                hookProblem = $"the pre-freeze command failed ({failed})";
            }

            FrozenRead frozen = Freeze(plans, volumes, window, seals => tracker.Barrier(TimeSpan.FromSeconds(1)) ? reread.Widen(CatchUpChunks(plans, tracker.Take().Including(seals, command.ChunkSize))) : null, readers);
            if (command.PostThawCommand is { Length: > 0 } thawHook)
            {
                await RunHookAsync("post-thaw", thawHook, cancellationToken);
            }

            if (frozen.Lost)
            {
                // The trace didn't reach the freeze's marker: its marks can't be trusted.
                return await RereadUnderFreezeAsync(plans, readers, volumes, "the write trace didn't answer under the freeze", window, rate, passes, retries, pass, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
            }

            if (frozen.NotFrozen is { } notFrozen)
            {
                await LivePassAsync(frozen.Chunks);
                return Record(ConsistencyModes.Inconsistent, notFrozen, "tracepoints", frozen, passes, retries);
            }

            if (!frozen.Fits)
            {
                retries++;
                await LivePassAsync(frozen.Chunks);
                if (lastChance)
                {
                    return Record(ConsistencyModes.Inconsistent, $"the source writes faster than a {window.TotalSeconds:0.#} s freeze can catch up ({MaxCatchUpPasses} passes)", "tracepoints", frozen, passes, retries);
                }

                continue;
            }

            passes++;
            await SendFrozenAsync(plans, frozen, ++pass, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
            string? refused = frozen.Refused.Count == 0 ? null : string.Join("; ", frozen.Refused.Select(r => r.Reason));
            return Record(refused is not null ? ConsistencyModes.Inconsistent : hookProblem is not null ? ConsistencyModes.CrashConsistent : ConsistencyModes.Frozen,
                refused ?? hookProblem, "tracepoints", frozen, passes, retries);
        }

        RoundConsistency Record(string mode, string? reason, string tracking, FrozenRead? frozen, int passCount, int retryCount) =>
            Describe(plans, mode, reason, tracking, frozen, passCount, retryCount, readers.BytesRead);
    }

    /// <summary>What a live round is, for its record: the round's figures and each mounted file system's part.</summary>
    private RoundConsistency Describe(List<DiskPlan> plans, string mode, string? reason, string tracking, FrozenRead? frozen, int passes, int retries, long bytesRead) => new()
    {
        Mode = mode,
        Reason = reason,
        Tracking = tracking,
        CatchUpPasses = passes,
        FreezeRetries = retries,
        BytesRead = bytesRead,
        BytesSent = Pipeline.BytesSent,
        FrozenAt = frozen?.FrozenAt,
        FreezeWindowMs = frozen?.WindowMs,
        Volumes = [.. plans.Where(p => p.Live is not null).SelectMany(p => p.Live!.Volumes.Select(v =>
        {
            string? refused = frozen?.Refused.FirstOrDefault(r => r.Volume == v).Reason;
            return new VolumeConsistency
            {
                Disk = p.Index,
                StartBytes = v.Start,
                MountPoint = v.MountPoint,
                FileSystem = v.FileSystem,
                Mode = refused is not null ? ConsistencyModes.Inconsistent : mode,
                Reason = refused ?? reason,
                Log = frozen?.Logs.GetValueOrDefault(v),
                UsedBlocks = p.KernelMapped.Contains(v.MountPoint) ? "getfsmap" : "whole",
            };
        }))],
    };

    /// <summary>Sends what a freeze read, as a pass that replaces what earlier passes had there; the buffers go back to the pool.</summary>
    private async Task SendFrozenAsync(List<DiskPlan> plans, FrozenRead frozen, int pass, byte[] dataKey, byte[] fingerprintKey, FingerprintStore? baseline,
        RoundJournal journal, RoundProgress progress, CancellationToken cancellationToken)
    {
        journal.BeginPass(pass, frozen.Chunks);
        try
        {
            await Pipeline.RunAsync(plans, frozen.Chunks, frozen.Read, pass, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
        }
        finally
        {
            frozen.Release();
        }
    }

    /// <summary>
    /// Without write tracking: under a freeze, plan the live disks again (the kernel's map as frozen) and read all of it, when
    /// that fits the window and the memory bound (small file systems); otherwise the round is read live and says so.
    /// </summary>
    private async Task<RoundConsistency> RereadUnderFreezeAsync(List<DiskPlan> plans, SourceReaders readers, List<LiveVolume> volumes, string why, TimeSpan window, double rate,
        int passes, int retries, int pass, byte[] dataKey, byte[] fingerprintKey, FingerprintStore? baseline, RoundJournal journal, RoundProgress progress, CancellationToken cancellationToken)
    {
        long planned = plans.Where(p => p.Live is not null).Sum(p => p.PlannedBytes);
        RoundConsistency Inconsistent(string reason) => Describe(plans, ConsistencyModes.Inconsistent, reason, "none", null, passes, retries, readers.BytesRead);

        if (planned > FrozenReadCap || planned / rate > window.TotalSeconds * 0.8)
        {
            return Inconsistent($"{why}, and its {Human(planned)} in use can't be re-read within a {window.TotalSeconds:0.#} s freeze");
        }

        FrozenRead frozen = Freeze(plans, volumes, window, _ => [.. plans.Where(p => p.Live is not null).SelectMany(p => DiskPlan.Build(p.Index, p.Device, command.ChunkSize, p.Live).Chunks)], readers);
        if (frozen.NotFrozen is { } notFrozen || !frozen.Fits)
        {
            frozen.Release();
            return Inconsistent($"{why}; {frozen.NotFrozen ?? "the re-read under the freeze didn't fit its window"}");
        }

        await SendFrozenAsync(plans, frozen, pass + 1, dataKey, fingerprintKey, baseline, journal, progress, cancellationToken);
        string? refused = frozen.Refused.Count == 0 ? null : string.Join("; ", frozen.Refused.Select(r => r.Reason));
        return Describe(plans, refused is null ? ConsistencyModes.Frozen : ConsistencyModes.Inconsistent, refused ?? $"{why}: re-read whole under the freeze", "reread", frozen, passes + 1, retries, readers.BytesRead);
    }

    /// <summary>
    /// Arms the watchdog, freezes, plans each frozen XFS log's seal (<see cref="XfsLog"/>), asks what to read given the
    /// ranges the seals must be read with (null: the trace failed), reads it into memory within the window, and thaws — on
    /// every path; then lays the seals into what was read. Nothing here writes to a file system (the frozen ones may hold
    /// the state directory); the caller sends what was read after the thaw.
    /// </summary>
    private FrozenRead Freeze(List<DiskPlan> plans, List<LiveVolume> volumes, TimeSpan window, Func<List<(int Disk, long Offset, int Length)>, List<ChunkRange>?> what, SourceReaders readers)
    {
        var result = new FrozenRead();
        using FreezeWatchdog? watchdog = FreezeWatchdog.Arm([.. volumes.Select(v => v.MountPoint)], window + TimeSpan.FromSeconds(2), out string? noWatchdog);
        if (watchdog is null)
        {
            result.NotFrozen = $"not frozen: {noWatchdog}";
            result.Chunks = what([]) ?? [];
            return result;
        }

        long readBefore = readers.BytesRead;
        var clock = Stopwatch.StartNew();
        using (FrozenVolumes frozen = FrozenVolumes.Freeze(volumes))
        {
            try
            {
                result.FrozenAt = frozen.FrozenAt;
                result.Refused = frozen.Refused;
                HoldWhileFrozen();
                List<LogSealPlan> seals = LogSealPlanner.Plan(plans, [.. volumes.Where(v => !frozen.Refused.Any(r => r.Volume == v))], readers);
                List<ChunkRange>? chunks = what([.. seals.SelectMany(s => s.Writes.Select(w => (s.Disk, w.Offset, w.Bytes.Length)))]);
                if (chunks is null)
                {
                    result.Lost = true;
                    return result;
                }

                result.Chunks = chunks;
                if (chunks.Sum(c => (long)c.Length) > FrozenReadCap)
                {
                    result.Fits = false;
                    return result;
                }

                foreach (ChunkRange c in chunks)
                {
                    if (clock.Elapsed > window)
                    {
                        result.Fits = false;
                        break;
                    }

                    byte[] buffer = ArrayPool<byte>.Shared.Rent(c.Length);
                    result.Held[c] = buffer;
                    readers.Read(c, buffer.AsSpan(0, c.Length));
                }

                if (result.Fits)
                {
                    foreach (LogSealPlan seal in seals)
                    {
                        result.Logs[seal.Volume] = seal.NotSealed is { } why ? $"not sealed: {why}" : result.Apply(seal) ? "sealed" : "not sealed: its log was not read under the freeze";
                    }
                }
            }
            finally
            {
                frozen.Thaw();
                result.WindowMs = clock.ElapsedMilliseconds;
                watchdog.Disarm();
                result.BytesRead = readers.BytesRead - readBefore;
            }
        }

        if (!result.Fits)
        {
            result.Release();
        }

        return result;
    }

    /// <summary>
    /// Fault injection for the tests (holds): with <c>SMC_AGENT_TEST_FREEZE_HOLD=FILE</c>, once frozen the agent writes
    /// <c>FILE.frozen</c> (its process id) and waits while FILE exists (at most a minute), so a test can kill it inside
    /// the freeze; <c>SMC_AGENT_TEST_PLAN_HOLD=FILE</c> holds the same way (<c>FILE.planned</c>) once a live round has
    /// planned its disks and before it reads any, while FILE exists. FILE must be on a file system the agent doesn't freeze.
    /// </summary>
    private static void HoldWhileFrozen() => TestHold("SMC_AGENT_TEST_FREEZE_HOLD", "frozen");

    /// <inheritdoc cref="HoldWhileFrozen"/>
    private static void HoldAfterPlanning() => TestHold("SMC_AGENT_TEST_PLAN_HOLD", "planned");

    private static void TestHold(string variable, string reached)
    {
        if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } hold || !File.Exists(hold))
        {
            return;
        }

        File.WriteAllText($"{hold}.{reached}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        while (File.Exists(hold) && clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            Thread.Sleep(20);
        }
    }

    private static List<ChunkRange> CatchUpChunks(List<DiskPlan> plans, DirtyCells written) =>
        [.. plans.Where(p => p.Live is not null && p.Index < written.Disks).SelectMany(p => p.CatchUp(written.Of(p.Index)))];

    /// <summary>Runs a job hook with <c>/bin/sh -c</c> within its timeout; null when it succeeded, else what went wrong.</summary>
    private async Task<string?> RunHookAsync(string name, string commandLine, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(commandLine);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Clamp(command.HookTimeoutSeconds, 1, 3600)));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            Log($"{name} command timed out after {command.HookTimeoutSeconds} s");
            return $"timed out after {command.HookTimeoutSeconds} s";
        }

        string output = (await stdout + await stderr).Trim();
        string tail = output.Length > 300 ? output[^300..] : output;
        Log($"{name} command exited with {process.ExitCode}{(tail.Length > 0 ? ": " + tail : "")}");
        return process.ExitCode == 0 ? null : $"exit code {process.ExitCode}{(tail.Length > 0 ? ": " + tail : "")}";
    }

    /// <summary>What a freeze read: the chunks and their bytes in memory, and how the freeze went.</summary>
    private sealed class FrozenRead
    {
        public Dictionary<ChunkRange, byte[]> Held { get; } = [];

        public List<ChunkRange> Chunks { get; set; } = [];

        public List<(LiveVolume Volume, string Reason)> Refused { get; set; } = [];

        /// <summary>Why nothing was frozen (no watchdog), when so.</summary>
        public string? NotFrozen { get; set; }

        /// <summary>The trace didn't reach the freeze's marker.</summary>
        public bool Lost { get; set; }

        /// <summary>What was written fit the window and the memory bound, and was read.</summary>
        public bool Fits { get; set; } = true;

        public DateTimeOffset? FrozenAt { get; set; }

        public long? WindowMs { get; set; }

        public long BytesRead { get; set; }

        /// <summary>Per frozen XFS: <c>sealed</c>, or why its log is left covered.</summary>
        public Dictionary<LiveVolume, string> Logs { get; } = [];

        public void Read(ChunkRange range, Span<byte> buffer) => Held[range].AsSpan(0, range.Length).CopyTo(buffer);

        /// <summary>Lays a seal's writes into the chunks held, when they cover every byte of them; else changes nothing.</summary>
        public bool Apply(LogSealPlan seal)
        {
            foreach (LogSealWrite w in seal.Writes)
            {
                long covered = w.Offset, end = w.Offset + w.Bytes.Length;
                foreach (ChunkRange c in Held.Keys.Where(c => c.Disk == seal.Disk && c.Offset < end && c.Offset + c.Length > w.Offset).OrderBy(c => c.Offset))
                {
                    if (c.Offset > covered)
                    {
                        break;
                    }

                    covered = Math.Max(covered, c.Offset + c.Length);
                }

                if (covered < end)
                {
                    return false;
                }
            }

            foreach (LogSealWrite w in seal.Writes)
            {
                foreach ((ChunkRange c, byte[] buffer) in Held.Where(h => h.Key.Disk == seal.Disk && h.Key.Offset < w.Offset + w.Bytes.Length && h.Key.Offset + h.Key.Length > w.Offset))
                {
                    long from = Math.Max(c.Offset, w.Offset), to = Math.Min(c.Offset + c.Length, w.Offset + w.Bytes.Length);
                    w.Bytes.AsSpan((int)(from - w.Offset), (int)(to - from)).CopyTo(buffer.AsSpan((int)(from - c.Offset)));
                }
            }

            return true;
        }

        public void Release()
        {
            foreach (byte[] b in Held.Values)
            {
                ArrayPool<byte>.Shared.Return(b, clearArray: true);
            }

            Held.Clear();
        }
    }
}
