namespace Smc.Wire.Agent;

/// <summary>
/// <c>POST /api/v1/agent/jobs/{jobId}/rounds/{round}/failure</c>: the agent can't finish the round for a reason that
/// retrying won't fix (an unreadable source region). The job ends <c>InError</c> with this code and message; what was
/// uploaded stays staged for a restart.
/// </summary>
public sealed class RoundFailureRequest
{
    /// <summary>One of <see cref="RoundFailureCodes"/>.</summary>
    public required string ErrorCode { get; init; }

    /// <summary>What failed and where (device, byte range), and what to do; at most 1000 characters.</summary>
    public required string Message { get; init; }
}

/// <summary>The failures an agent may report; the control plane refuses any other code.</summary>
public static class RoundFailureCodes
{
    /// <summary>A source disk region could not be read (EIO, short read).</summary>
    public const string SourceReadError = "SourceDisk.ReadError";

    /// <summary>A source disk is missing or can't be opened.</summary>
    public const string SourceUnavailable = "SourceDisk.Unavailable";

    /// <summary>The job's pre-freeze hook failed or timed out (and the job doesn't continue crash-consistent).</summary>
    public const string PreFreezeHookFailed = "SourceHook.PreFreezeFailed";

    public static readonly IReadOnlyList<string> All = [SourceReadError, SourceUnavailable, PreFreezeHookFailed];
}
