namespace Smc.Core.Orchestration;

/// <summary>Input of <see cref="MigrateServerOrchestrator"/>. Holds ids only: no secrets ever enter a history.</summary>
public sealed record MigrationInput(string JobId, int RecheckSeconds, int Generation = 0);
