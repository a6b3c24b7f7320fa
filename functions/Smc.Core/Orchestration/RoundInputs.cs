namespace Smc.Core.Orchestration;

// Inputs and results of the round activities. They carry ids, hashes and counts only:
// no key material or SAS ever enters an orchestration history.

/// <summary>
/// Start a round — job key, staging container, the agent's command; job → Syncing. <paramref name="Type"/> is the run's
/// type (Manual or Schedule); <paramref name="Final"/>: the cutover round (recorded on the run, so a restart after it still finishes the job).
/// </summary>
public sealed record PrepareRoundInput(string JobId, int Round, string Type = RunTypes.Manual, bool Final = false);

/// <summary><paramref name="Round"/>: the round issued (an unfinished one again, or the next).</summary>
public sealed record PrepareRoundResult(bool Ok, string? ErrorCode, string? Message, int Round = 0);

/// <summary>The agent committed a round (raised by the commit route).</summary>
public sealed record RoundCommit(int Round, string ManifestSha256);

/// <summary>The agent reported that it can't finish the round (payload of <see cref="Services.MigrationEvents.RoundFailed"/>).</summary>
public sealed record RoundFailure(int Round, string ErrorCode, string Message);

/// <summary>Periodic check while waiting for the agent's commit.</summary>
public sealed record CheckSyncInput(string JobId, int Round, DateTime WaitingSinceUtc);

public enum SyncOutcome
{
    /// <summary>Keep waiting.</summary>
    Continue,

    /// <summary>The job was stopped or deleted: end quietly.</summary>
    JobGone,

    /// <summary>The agent has been silent too long: fail the run.</summary>
    Lost,
}

public sealed record CheckSyncResult(SyncOutcome Outcome, string? ErrorCode, string? Message);

/// <summary>Check the committed manifest and plan the assembly; job → Processing.</summary>
public sealed record VerifyRoundInput(string JobId, int Round, string ManifestSha256);

public sealed record AssemblyPlan(string? ImageId, List<SliceInput> Slices, string? ErrorCode, string? Message);

/// <summary>One slice of a disk's chunks (manifest order): keep its packs in the image store, then open and check each chunk there.</summary>
public sealed record SliceInput(string JobId, int Round, string ManifestSha256, string ImageId, int Disk, int FirstChunk, int ChunkCount);

/// <summary><paramref name="WrittenBytes"/>: plaintext bytes of the chunks checked (the name is shipped in histories).</summary>
public sealed record SliceResult(long WrittenBytes, string? ErrorCode, string? Message);

/// <summary>Write the image's disk maps (with the destination partition tables), record the image and the run; job → Cleaning.</summary>
public sealed record FinalizeImageInput(string JobId, int Round, string ManifestSha256, string ImageId, long WrittenBytes);

public sealed record VerifyBootInput(string JobId, int Round, string ImageId);

public sealed record DiscardImageInput(string JobId, string ImageId);
