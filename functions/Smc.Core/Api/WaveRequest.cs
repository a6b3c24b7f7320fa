using Smc.Core.Domain;

namespace Smc.Core.Api;

/// <summary><c>POST /api/v1/waves</c> and <c>PATCH /api/v1/waves/{id}</c>.</summary>
public sealed record WaveRequest
{
    public string? Name { get; init; }

    public string? Description { get; init; }

    public Dictionary<string, string>? Tags { get; init; }

    /// <summary>1–1000; on PATCH, 0 removes the cap.</summary>
    public int? MaxConcurrentRounds { get; init; }

    /// <summary>On PATCH, a window with empty start and end removes it.</summary>
    public DailyWindow? Window { get; init; }

    /// <summary>Upload limits by time of day for the wave's jobs; on PATCH, replaces the schedule (an empty list removes it).</summary>
    public List<BandwidthWindow>? BandwidthSchedule { get; init; }
}

/// <summary><c>POST /api/v1/waves/{id}/members</c>: jobs to add, by id or by their source (its unfinished job).</summary>
public sealed record WaveMembersRequest
{
    public List<string>? JobIds { get; init; }

    public List<string>? SourceIds { get; init; }
}

/// <summary>A wave as the API shows it: the record and its roll-up over its jobs.</summary>
public sealed record WaveView(Wave Wave, WaveRollup Rollup);

/// <summary>
/// A wave's jobs at a glance: how many, by status, the mean progress, the worst lag, the rounds running and queued
/// under the cap, and each job's error.
/// </summary>
public sealed record WaveRollup(
    int Jobs,
    IReadOnlyDictionary<string, int> ByStatus,
    double Progress,
    double? MaxLagSeconds,
    int RunningRounds,
    int QueuedRounds,
    IReadOnlyList<WaveMemberError> Errors,
    IReadOnlyList<string> JobIds);

public sealed record WaveMemberError(string JobId, string? ErrorCode, string? ErrorMessage);

/// <summary>What taking a wave slot for a round answered: go, the job is gone, or wait (until <see cref="RetryAtUtc"/> at the latest).</summary>
public sealed record WaveSlotResult(bool Granted, bool JobGone = false, DateTime? RetryAtUtc = null);
