namespace Smc.Wire.Agent;

/// <summary><c>POST /api/v1/agent/jobs/{jobId}/rounds/{round}/commit</c>, after the commit marker is written.</summary>
public sealed class RoundCommitRequest
{
    public required string ManifestSha256 { get; init; }

    public int ChunkCount { get; init; }

    public long StoredBytes { get; init; }

    /// <summary>What the round's image is: how consistent, how it was read (null from agents before live sources).</summary>
    public RoundConsistency? Consistency { get; init; }
}

/// <summary>How a round's image relates to the running source it was read from.</summary>
public sealed class RoundConsistency
{
    /// <summary>
    /// <see cref="ConsistencyModes.Frozen"/> (every mounted file system as at its freeze instant: mountable, clean),
    /// <see cref="ConsistencyModes.CrashConsistent"/> (frozen, but a pre-freeze hook failed: as after a power cut for the
    /// application), <see cref="ConsistencyModes.Inconsistent"/> (a mounted file system was read while it changed), or
    /// <see cref="ConsistencyModes.Offline"/> (nothing of the source was mounted: a quiet disk or an image file).
    /// </summary>
    public string Mode { get; init; } = ConsistencyModes.Offline;

    /// <summary>Why the round is less than frozen, when it is.</summary>
    public string? Reason { get; init; }

    /// <summary><c>tracepoints</c> (writes tracked by the kernel's block tracepoints), <c>reread</c> (re-read whole under the freeze), or <c>none</c>.</summary>
    public string Tracking { get; init; } = "none";

    /// <summary>Passes that re-read what was written since it was read (the last under the freeze).</summary>
    public int CatchUpPasses { get; init; }

    /// <summary>Freeze attempts that were given up (the catch-up didn't fit the window) before the one that held.</summary>
    public int FreezeRetries { get; init; }

    /// <summary>Bytes the agent read from the source disks in this round.</summary>
    public long BytesRead { get; init; }

    /// <summary>Bytes of the chunks sent (before compression), re-sent ones included.</summary>
    public long BytesSent { get; init; }

    /// <summary>The instant the file systems were frozen (the image shows them as then), when they were.</summary>
    public DateTimeOffset? FrozenAt { get; init; }

    /// <summary>How long they stayed frozen, in milliseconds.</summary>
    public long? FreezeWindowMs { get; init; }

    public List<VolumeConsistency> Volumes { get; init; } = [];

    /// <summary>
    /// An incremental round of a live disk: <c>tracked</c> (only what the tracker saw written since the previous round's
    /// freeze was read) or <c>scan</c> (the used blocks were read and compared with the base round's fingerprints);
    /// null for a full round or a quiet disk.
    /// </summary>
    public string? ChangeDetection { get; set; }

    /// <summary>Why an incremental round of a live disk had to scan (the agent restarted, the trace lost events).</summary>
    public string? ChangeDetectionReason { get; set; }
}

/// <summary>One mounted file system of a source disk in a round.</summary>
public sealed class VolumeConsistency
{
    public int Disk { get; init; }

    public long StartBytes { get; init; }

    public string MountPoint { get; init; } = "";

    public string FileSystem { get; init; } = "";

    /// <summary>frozen, crash-consistent or inconsistent.</summary>
    public string Mode { get; init; } = ConsistencyModes.Inconsistent;

    public string? Reason { get; init; }

    /// <summary>How its used blocks were found: <c>getfsmap</c> (the kernel's space map) or <c>whole</c> (copied whole).</summary>
    public string UsedBlocks { get; init; } = "whole";

    /// <summary>
    /// XFS: <c>sealed</c> when the image's log holds an unmount record after the freeze's covering records (and the
    /// superblock exact counters), so it checks and mounts clean with no recovery; else <c>not sealed: why</c> (the log is
    /// covered: a mount replays it). Null for other file systems.
    /// </summary>
    public string? Log { get; init; }
}

public static class ConsistencyModes
{
    public const string Frozen = "frozen";
    public const string CrashConsistent = "crash-consistent";
    public const string Inconsistent = "inconsistent";
    public const string Offline = "offline";
}
