namespace Smc.Core.Orchestration;

/// <summary>How an orchestration ended: the job's status (<see cref="Domain.JobStatus"/>), or <see cref="Gone"/>.</summary>
public sealed record MigrationResult(string JobId, string Status, string? ErrorCode)
{
    /// <summary>The job was deleted (or is no longer running) while the orchestration waited: it ends quietly.</summary>
    public const string Gone = "Gone";
}

/// <summary>A run's type: started by hand (start, cutover) or by the sync interval's timer.</summary>
public static class RunTypes
{
    public const string Manual = "Manual";

    public const string Schedule = "Schedule";
}
