namespace Smc.Core.Orchestration;

public enum AcquireOutcome
{
    /// <summary>The source is <c>InUse</c> by this job.</summary>
    Acquired,

    /// <summary>The source is not <c>Available</c> yet (agent silent): wait and re-check.</summary>
    Wait,

    /// <summary>The job is gone or no longer running: end quietly.</summary>
    JobGone,

    /// <summary>The source server was deleted: the job fails.</summary>
    SourceGone,
}
