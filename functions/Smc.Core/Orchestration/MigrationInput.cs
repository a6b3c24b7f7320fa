namespace Smc.Core.Orchestration;

/// <summary>
/// Input of <see cref="MigrateServerOrchestrator"/>. Holds ids and timings only: no secrets ever enter a history.
/// <see cref="Stage"/> lets ContinueAsNew resume mid-run without redoing finished stages.
/// </summary>
public sealed record MigrationInput(string JobId, int RecheckSeconds, int Generation = 0, string Stage = MigrationStage.Prepare, int Round = 0, DateTime? SyncingSinceUtc = null);
