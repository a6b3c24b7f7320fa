namespace Smc.Core.Orchestration;

/// <summary>
/// Input of <see cref="MigrateServerOrchestrator"/>. Holds ids and timings only: no secrets ever enter a history.
/// <see cref="Stage"/> lets ContinueAsNew resume mid-run without redoing finished stages.
/// </summary>
/// <param name="RunType">The round's run type: Manual (start, cutover) or Schedule (the sync interval's timer).</param>
/// <param name="Final">The cutover round: the job finishes with its image instead of waiting for another round.</param>
public sealed record MigrationInput(string JobId, int RecheckSeconds, int Generation = 0, string Stage = MigrationStage.Prepare, int Round = 0, DateTime? SyncingSinceUtc = null,
    string RunType = RunTypes.Manual, bool Final = false)
{
    /// <summary>The first round waits until then (scheduledStartTime); cleared once waited for.</summary>
    public DateTime? NotBeforeUtc { get; init; }

    /// <summary>
    /// The orchestration's version, kept through ContinueAsNew. 0: a history started before the export stage existed,
    /// replayed as it was recorded (no export or launch activities); 1: exports to the cloud and test launches; 2: the
    /// boot test of each Image round's image; 3: a scheduled round is held while the job is paused; 4: a round takes a slot of
    /// its job's wave before it is issued and gives it back when it ends; 5: a round's end in 3 activities instead of 8
    /// (<see cref="Services.RoundEndSteps"/>); 6: what precedes a round's command in 1 activity instead of 4
    /// (<see cref="Services.RoundStartSteps"/>).
    /// </summary>
    public int Version { get; init; }

    public const int CurrentVersion = 6;
}
