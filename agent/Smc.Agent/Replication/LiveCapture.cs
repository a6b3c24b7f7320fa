using Smc.Agent.Platform.Live;

namespace Smc.Agent.Replication;

/// <summary>The live part of a round: the source disks' mounted file systems and the tracker of their writes.</summary>
internal sealed class LiveCapture : IDisposable
{
    private WriteTracker? _tracker;

    private LiveCapture(LiveDisk?[] disks, WriteTracker? tracker, string? whyNot, DirtyCells? since)
    {
        Disks = disks;
        _tracker = tracker;
        TrackingUnavailable = whyNot;
        Since = since;
    }

    public LiveDisk?[] Disks { get; }

    public WriteTracker? Tracker => _tracker;

    /// <summary>Why writes aren't tracked, when they aren't.</summary>
    public string? TrackingUnavailable { get; }

    /// <summary>The tracker has run without a gap since the previous round's freeze: its marks are what changed since.</summary>
    public bool Continued => Since is not null;

    /// <summary>
    /// What a continued tracker marked from the previous round's freeze until this capture started — taken here, before
    /// the round plans its disks: a block the file system allocates and writes after the kernel's space map is read is
    /// then marked for this round's catch-up, which reads it whatever the plan said. (Taken after the plan, such a write
    /// was consumed here and its block, absent from the plan, was never read: a database's newest pages were lost.)
    /// </summary>
    public DirtyCells? Since { get; }

    /// <summary>
    /// Starts tracking writes to the disks that have mounted file systems (or goes on with <paramref name="kept"/>, the
    /// tracker of the previous round, when it has lost nothing); null when no disk has a mounted file system.
    /// </summary>
    public static LiveCapture? Start(IReadOnlyList<string> devices, int chunkSize, WriteTracker? kept = null)
    {
        LiveDisk?[] disks = [.. devices.Select(d => OperatingSystem.IsLinux() ? BlockDevices.Discover(d) : null)];
        if (!disks.Any(d => d is { Volumes.Count: > 0 }))
        {
            kept?.Dispose();
            return null;
        }

        if (kept is not null && !kept.IsLost)
        {
            return new LiveCapture(disks, kept, null, kept.Take());
        }

        kept?.Dispose();
        WriteTracker? tracker = WriteTracker.TryStart([.. disks.Select(d => d is { Volumes.Count: > 0 } ? d.Device : (DeviceNumber?)null)], chunkSize, out string? whyNot);
        return new LiveCapture(disks, tracker, whyNot, since: null);
    }

    /// <summary>Hands the tracker over (to be kept for the next round) instead of stopping it with this capture.</summary>
    public WriteTracker? Detach()
    {
        WriteTracker? tracker = _tracker;
        _tracker = null;
        return tracker;
    }

    public void Dispose() => _tracker?.Dispose();
}

/// <summary>
/// Write trackers kept between rounds by a long-running agent (<c>smc-agent run</c>, <c>migrate</c>): after a round's
/// freeze its tracker goes on marking, so the next round of the job reads only what was written since — no rescan.
/// One per job; a round takes it (and gives it back when it commits frozen).
/// </summary>
internal sealed class LiveTrackers : IDisposable
{
    private readonly Dictionary<string, (WriteTracker Tracker, int Round, string[] Devices)> _kept = [];

    /// <summary>The job's tracker if it continues from <paramref name="baseRound"/>'s freeze over the same disks; null otherwise (a kept one that doesn't fit is stopped).</summary>
    public WriteTracker? Take(string jobId, int? baseRound, IReadOnlyList<string> devices)
    {
        lock (_kept)
        {
            if (!_kept.Remove(jobId, out var kept))
            {
                return null;
            }

            if (kept.Round == baseRound && kept.Devices.SequenceEqual(devices))
            {
                return kept.Tracker;
            }

            kept.Tracker.Dispose();
            return null;
        }
    }

    public void Keep(string jobId, int round, IReadOnlyList<string> devices, WriteTracker tracker)
    {
        lock (_kept)
        {
            if (_kept.Remove(jobId, out var old))
            {
                old.Tracker.Dispose();
            }

            _kept[jobId] = (tracker, round, [.. devices]);
        }
    }

    public void Dispose()
    {
        lock (_kept)
        {
            foreach (var k in _kept.Values)
            {
                k.Tracker.Dispose();
            }

            _kept.Clear();
        }
    }
}
