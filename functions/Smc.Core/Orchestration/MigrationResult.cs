namespace Smc.Core.Orchestration;

public sealed record MigrationResult(string JobId, string Status, string? ErrorCode);
