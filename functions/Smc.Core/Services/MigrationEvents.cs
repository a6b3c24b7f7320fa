namespace Smc.Core.Services;

/// <summary>External events the migration orchestration waits for. Names are shipped: never rename.</summary>
public static class MigrationEvents
{
    public const string SourceAvailable = "SourceAvailable";
    public const string SyncNow = "SyncNow";
    public const string Cutover = "Cutover";
    public const string RoundCommitted = "RoundCommitted";
    public const string RoundFailed = "RoundFailed";

    /// <summary>PATCH of syncInterval while Waiting; payload: the new interval in seconds, counted from the start of the wait.</summary>
    public const string IntervalChanged = "IntervalChanged";

    /// <summary>POST …/resume: a scheduled round held by a pause may run (the orchestration checks the job again).</summary>
    public const string Resumed = "Resumed";

    /// <summary>A round of the job's wave ended: a queued round may take the slot it freed (the orchestration asks again).</summary>
    public const string WaveSlotFree = "WaveSlotFree";
}
