using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Waves (issue 19): create, list with their roll-up, change, delete, membership — and the slots that cap how many of
/// a wave's rounds run at once. A round takes a slot before it is issued (<see cref="TakeSlotAsync"/>, from the
/// orchestration) and gives it back when it ends (<see cref="ReleaseSlotAsync"/>); a round past the cap or outside the
/// wave's window queues, and the orchestration that ends a round wakes the first queued ones. A slot whose job is no
/// longer running (stopped, deleted, moved) is taken back by the next take, so a job that ended without giving its slot
/// back can't block the wave.
/// </summary>
public sealed class WaveService(IRecordStore<Wave> waves, IRecordStore<ReplicationJob> jobs, IKeyIndex keys, IMigrationEngine engine, TimeProvider clock)
{
    public const int MaxCap = 1000;

    public async Task<WaveView> CreateAsync(WaveRequest request, CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = clock.GetUtcNow();
        var wave = new Wave
        {
            WaveId = Ids.New(Ids.WavePrefix),
            Name = Validate.Name(request.Name),
            Description = Validate.Description(request.Description),
            Tags = Tags.Check(request.Tags) ?? [],
            MaxConcurrentRounds = Cap(request.MaxConcurrentRounds, patch: false),
            Window = Window(request.Window),
            BandwidthSchedule = BandwidthSchedule.Check(request.BandwidthSchedule, ErrorCodes.InvalidWave, "bandwidthSchedule"),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await waves.InsertAsync(wave.WaveId, wave, cancellationToken);
        return new WaveView(wave, Rollup(wave, []));
    }

    public async Task<Page<WaveView>> ListAsync(string? name, PageRequest page, TagFilter? tags = null, CancellationToken cancellationToken = default)
    {
        var all = new List<Wave>();
        await foreach (Stored<Wave> w in waves.ListAsync(cancellationToken))
        {
            if ((name is null || w.Value.Name.Contains(name, StringComparison.OrdinalIgnoreCase)) && (tags is null || tags.Matches(w.Value.Tags)))
            {
                all.Add(w.Value);
            }
        }

        // One pass over the jobs rolls up every wave on the page.
        Page<Wave> waved = page.Apply([.. all.OrderByDescending(w => w.CreatedAt).ThenBy(w => w.WaveId, StringComparer.Ordinal)]);
        ILookup<string, ReplicationJob> members = await MembersAsync([.. waved.Items.Select(w => w.WaveId)], cancellationToken);
        return new Page<WaveView>(waved.TotalCount, waved.PageNumber, waved.PageSize, [.. waved.Items.Select(w => new WaveView(w, Rollup(w, members[w.WaveId])))]);
    }

    public async Task<WaveView> GetAsync(string waveId, CancellationToken cancellationToken = default)
    {
        Wave wave = (await waves.GetAsync(Check(waveId), cancellationToken))?.Value ?? throw NotFound(waveId);
        return new WaveView(wave, Rollup(wave, (await MembersAsync([waveId], cancellationToken))[waveId]));
    }

    /// <summary>A 404 unless the wave exists (one record read; no roll-up).</summary>
    public async Task EnsureExistsAsync(string waveId, CancellationToken cancellationToken = default) =>
        _ = (await waves.GetAsync(Check(waveId), cancellationToken)) ?? throw NotFound(waveId);

    /// <summary>The ids of the wave's jobs, oldest first (what its actions fan out to).</summary>
    public async Task<List<string>> MemberIdsAsync(string waveId, CancellationToken cancellationToken = default)
    {
        await EnsureExistsAsync(waveId, cancellationToken);
        return [.. (await MembersAsync([waveId], cancellationToken))[waveId].OrderBy(j => j.CreatedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).Select(j => j.JobId)];
    }

    public async Task<WaveView> PatchAsync(string waveId, WaveRequest request, CancellationToken cancellationToken = default)
    {
        string? name = request.Name is null ? null : Validate.Name(request.Name);
        string? description = Validate.Description(request.Description);
        Dictionary<string, string>? tags = Tags.Check(request.Tags);
        int? cap = Cap(request.MaxConcurrentRounds, patch: true);
        bool clearWindow = request.Window is { Start: null or "", End: null or "" };
        DailyWindow? window = clearWindow ? null : Window(request.Window);
        List<BandwidthWindow>? schedule = BandwidthSchedule.Check(request.BandwidthSchedule, ErrorCodes.InvalidWave, "bandwidthSchedule");
        Stored<Wave> stored = await waves.UpdateAsync(Check(waveId), w =>
        {
            w.Name = name ?? w.Name;
            w.Description = description ?? w.Description;
            w.Tags = tags ?? w.Tags;
            w.MaxConcurrentRounds = cap is null ? w.MaxConcurrentRounds : cap == 0 ? null : cap;
            w.Window = clearWindow ? null : window ?? w.Window;
            w.BandwidthSchedule = schedule is null ? w.BandwidthSchedule : schedule.Count == 0 ? null : schedule;
            w.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw NotFound(waveId);

        // A wider cap or window may let queued rounds start now: they ask again.
        foreach (string queued in stored.Value.Queue)
        {
            await engine.RaiseEventAsync(queued, MigrationEvents.WaveSlotFree, waveId, cancellationToken);
        }

        return new WaveView(stored.Value, Rollup(stored.Value, (await MembersAsync([waveId], cancellationToken))[waveId]));
    }

    /// <summary>Deletes an empty wave; one with jobs is refused (409), so no job loses its grouping unseen.</summary>
    public async Task DeleteAsync(string waveId, CancellationToken cancellationToken = default)
    {
        if ((await MemberIdsAsync(waveId, cancellationToken)).Count > 0)
        {
            throw SmcException.Conflict(ErrorCodes.WaveNotEmpty, $"Wave '{waveId}' still has jobs: remove them (DELETE /api/v1/waves/{waveId}/members/{{jobId}}) or delete them (POST /api/v1/waves/{waveId}/delete) first.");
        }

        if (!await waves.DeleteAsync(waveId, cancellationToken: cancellationToken))
        {
            throw NotFound(waveId);
        }
    }

    /// <summary>Puts a job in the wave (moving it from another); null when it is already there.</summary>
    public async Task<ReplicationJob> AddMemberAsync(string waveId, string jobId, CancellationToken cancellationToken = default)
    {
        await EnsureExistsAsync(waveId, cancellationToken);
        Stored<ReplicationJob> stored = await jobs.UpdateAsync(ReplicationJobService.Check(jobId), j =>
        {
            if (j.WaveId == waveId)
            {
                return false;
            }

            j.WaveId = waveId;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw ReplicationJobService.NotFound(jobId);
        return stored.Value;
    }

    /// <summary>The unfinished job of a source (what a wave member given by source means).</summary>
    public async Task<string> JobOfSourceAsync(string sourceId, CancellationToken cancellationToken = default)
    {
        string? jobId = Ids.IsWellFormed(sourceId, Ids.SourcePrefix) ? await keys.GetAsync(KeyScopes.SourceJob, sourceId, cancellationToken) : null;
        if (jobId is null || (await jobs.GetAsync(jobId, cancellationToken))?.Value is not { } job || !JobStatus.IsUnfinished(job.Status))
        {
            throw SmcException.NotFound(ErrorCodes.JobNotFound, $"Source server '{sourceId}' has no unfinished job to put in a wave: create one (POST /api/v1/replication-jobs) first.");
        }

        return jobId;
    }

    public async Task RemoveMemberAsync(string waveId, string jobId, CancellationToken cancellationToken = default)
    {
        bool was = false;
        _ = await jobs.UpdateAsync(ReplicationJobService.Check(jobId), j =>
        {
            was = j.WaveId == waveId;
            if (!was)
            {
                return false;
            }

            j.WaveId = null;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken) ?? throw ReplicationJobService.NotFound(jobId);
        if (!was)
        {
            throw SmcException.NotFound(ErrorCodes.JobNotFound, $"Job '{jobId}' is not in wave '{waveId}'.");
        }
    }

    /// <summary>
    /// A round of <paramref name="jobId"/> is about to be issued: granted when its job is in no wave, already holds a
    /// slot, or a slot is free inside the window; else the job joins the queue (once) and waits.
    /// </summary>
    public async Task<WaveSlotResult> TakeSlotAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ReplicationJob? job = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        if (job is null || job.Status != JobStatus.Running)
        {
            return new WaveSlotResult(false, JobGone: true);
        }

        if (job.WaveId is not { } waveId || (await waves.GetAsync(waveId, cancellationToken))?.Value is not { } seen)
        {
            return new WaveSlotResult(true);
        }

        // Only what can stand in this round's way is checked: the slots, and the queue ahead of it.
        int place = seen.Queue.IndexOf(jobId);
        HashSet<string> stale = await NotRunningAsync(waveId, seen.Slots.Select(s => s.JobId).Concat(place < 0 ? seen.Queue : seen.Queue.Take(place)).Where(id => id != jobId), cancellationToken);
        DateTimeOffset now = clock.GetUtcNow();
        WaveSlotResult result = new(false);
        _ = await waves.UpdateAsync(waveId, w =>
        {
            bool changed = w.Slots.RemoveAll(s => stale.Contains(s.JobId)) + w.Queue.RemoveAll(stale.Contains) > 0;
            if (w.Slots.Any(s => s.JobId == jobId))
            {
                result = new WaveSlotResult(true);
                return changed;
            }

            (bool open, DateTimeOffset nextOpen) = w.Window?.At(now) ?? (true, now);
            int free = (w.MaxConcurrentRounds ?? int.MaxValue) - w.Slots.Count;
            int ahead = w.Queue.IndexOf(jobId) is int at and >= 0 ? at : w.Queue.Count;
            if (open && ahead < free)
            {
                w.Slots.Add(new WaveSlot(jobId, now));
                w.Queue.Remove(jobId);
                result = new WaveSlotResult(true);
                return true;
            }

            if (!w.Queue.Contains(jobId))
            {
                w.Queue.Add(jobId);
                changed = true;
            }

            result = new WaveSlotResult(false, RetryAtUtc: open ? null : nextOpen.UtcDateTime);
            return changed;
        }, cancellationToken);

        if (!result.Granted)
        {
            string message = result.RetryAtUtc is { } opens
                ? $"Queued in wave '{seen.Name}': its rounds start between {seen.Window!.Start} and {seen.Window.End} UTC (next at {opens:u})."
                : $"Queued in wave '{seen.Name}': {seen.MaxConcurrentRounds} of its rounds run at once; this one starts when one ends.";
            await SetQueuedAsync(jobId, message, cancellationToken);
        }
        else if (job.StatusInfo.ErrorCode == ErrorCodes.WaveQueued)
        {
            await SetQueuedAsync(jobId, null, cancellationToken);
        }

        return result;
    }

    /// <summary>A round of <paramref name="jobId"/> ended: its slot is free; the jobs to wake (the first queued, as many as slots are free).</summary>
    public async Task<List<string>> ReleaseSlotAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ReplicationJob? job = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        List<string> wake = [];
        if (job?.WaveId is not { } waveId)
        {
            return wake;
        }

        Stored<Wave>? after = await waves.UpdateAsync(waveId, w => w.Slots.RemoveAll(s => s.JobId == jobId) > 0 || w.Queue.Remove(jobId), cancellationToken);
        if (after?.Value is { } wave)
        {
            int free = Math.Max(0, (wave.MaxConcurrentRounds ?? int.MaxValue) - wave.Slots.Count);
            wake.AddRange(wave.Queue.Take(Math.Min(free, wave.Queue.Count)));
        }

        return wake;
    }

    private async Task SetQueuedAsync(string jobId, string? message, CancellationToken cancellationToken) =>
        await jobs.UpdateAsync(jobId, j =>
        {
            StatusInfo info = message is null ? new StatusInfo() : new StatusInfo { ErrorCode = ErrorCodes.WaveQueued, ErrorMessage = message };
            if (j.StatusInfo.ErrorMessage == info.ErrorMessage)
            {
                return false;
            }

            j.StatusInfo = info;
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken);

    private async Task<HashSet<string>> NotRunningAsync(string waveId, IEnumerable<string> jobIds, CancellationToken cancellationToken)
    {
        var stale = new HashSet<string>(StringComparer.Ordinal);
        foreach (string id in jobIds.Distinct(StringComparer.Ordinal))
        {
            ReplicationJob? j = (await jobs.GetAsync(id, cancellationToken))?.Value;
            if (j is null || j.Status != JobStatus.Running || j.WaveId != waveId)
            {
                stale.Add(id);
            }
        }

        return stale;
    }

    private async Task<ILookup<string, ReplicationJob>> MembersAsync(IReadOnlyCollection<string> waveIds, CancellationToken cancellationToken)
    {
        var found = new List<ReplicationJob>();
        await foreach (Stored<ReplicationJob> j in jobs.ListAsync(cancellationToken))
        {
            if (j.Value.WaveId is { } w && waveIds.Contains(w))
            {
                found.Add(j.Value);
            }
        }

        return found.ToLookup(j => j.WaveId!, StringComparer.Ordinal);
    }

    private WaveRollup Rollup(Wave wave, IEnumerable<ReplicationJob> members)
    {
        List<ReplicationJob> list = [.. members];
        HashSet<string> running = [.. list.Where(j => j.Status == JobStatus.Running).Select(j => j.JobId)];
        DateTimeOffset now = clock.GetUtcNow();
        double? maxLag = list.Where(j => !j.RunOnce && JobStatus.IsUnfinished(j.Status))
            .Select(j => j.ReplicationJobRuns.Where(r => r.ImageId is not null && r.EndTime is not null).Select(r => (double?)(now - r.EndTime!.Value).TotalSeconds).Min())
            .Where(l => l is not null).DefaultIfEmpty(null).Max();
        return new WaveRollup(
            list.Count,
            list.GroupBy(j => j.Status, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            list.Count == 0 ? 0 : Math.Round(list.Average(j => j.Status == JobStatus.Finished ? 100 : j.Progress), 1),
            maxLag is null ? null : Math.Round(maxLag.Value, 1),
            // A slot or queue place counts while its job runs: one whose round just ended is free, given back or not yet.
            wave.Slots.Count(s => running.Contains(s.JobId)),
            wave.Queue.Count(running.Contains),
            [.. list.Where(j => j.StatusInfo.ErrorCode is { } code && code != ErrorCodes.WaveQueued && code != ErrorCodes.SourceUnavailable || j.Status == JobStatus.InError)
                .Select(j => new WaveMemberError(j.JobId, j.StatusInfo.ErrorCode ?? j.ErrorCode, j.StatusInfo.ErrorMessage))],
            [.. list.OrderBy(j => j.CreatedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).Select(j => j.JobId)]);
    }

    private static int? Cap(int? cap, bool patch) =>
        cap is null || (patch && cap == 0) || cap is >= 1 and <= MaxCap
            ? cap
            : throw SmcException.BadRequest(ErrorCodes.InvalidWave, $"maxConcurrentRounds must be from 1 to {MaxCap}{(patch ? " (0 removes the cap)" : "")}.");

    private static DailyWindow? Window(DailyWindow? window) =>
        window is null || (DailyWindow.TryParse(window.Start, out TimeSpan s) && DailyWindow.TryParse(window.End, out TimeSpan e) && s != e)
            ? window
            : throw SmcException.BadRequest(ErrorCodes.InvalidWave, "window needs start and end as HH:mm (UTC), not equal; a start after the end spans midnight (22:00–06:00).");

    public static string Check(string waveId) =>
        Ids.IsWellFormed(waveId, Ids.WavePrefix) ? waveId : throw NotFound(waveId);

    public static SmcException NotFound(string waveId) =>
        SmcException.NotFound(ErrorCodes.WaveNotFound, $"No wave '{waveId}'. List waves with GET /api/v1/waves.");
}
