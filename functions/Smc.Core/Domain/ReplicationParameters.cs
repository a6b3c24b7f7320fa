namespace Smc.Core.Domain;

/// <summary>Transfer and freeze options for the agent (docs/api.md: CreateReplicationJob, and "Live sources").</summary>
public sealed class ReplicationParameters
{
    /// <summary>Parallel upload streams (1–64); null lets the agent choose.</summary>
    public int? Threads { get; init; }

    /// <summary>KB/s, 0 = unlimited: the limit outside the schedule's windows. Changes with PATCH, also mid-round.</summary>
    public int BandwidthLimitKBps { get; set; }

    /// <summary>Times of day with their own limit (<see cref="Domain.BandwidthSchedule"/>); the first that holds wins.</summary>
    public List<BandwidthWindow>? BandwidthSchedule { get; set; }

    /// <summary>zstd level 1–22; 0 = no compression.</summary>
    public int CompressLevel { get; init; } = 1;

    public bool Checksum { get; init; } = true;

    /// <summary>
    /// Longest a mounted file system of the source stays frozen while a round's last writes are read (1–60 s; default 5).
    /// When the catch-up would take longer the agent reads live once more and tries again.
    /// </summary>
    public int FreezeWindowSeconds { get; init; } = 5;

    /// <summary>Run on the source with <c>/bin/sh -c</c> before each freeze (flush a database, pause a queue); at most 4096 characters.</summary>
    public string? PreFreezeCommand { get; init; }

    /// <summary>Run on the source after each thaw; at most 4096 characters.</summary>
    public string? PostThawCommand { get; init; }

    /// <summary>Longest a hook may run (1–3600 s; default 30).</summary>
    public int HookTimeoutSeconds { get; init; } = 30;

    /// <summary>When the pre-freeze command fails: true takes the round crash-consistent, false (default) fails it with <c>SourceHook.PreFreezeFailed</c>.</summary>
    public bool ContinueOnHookFailure { get; init; }
}
