namespace Smc.Core.Orchestration;

/// <summary>Ends a run: the job's new status, with an error code and a fix-it message when it failed.</summary>
public sealed record FinishRunInput(string JobId, string Status, string? ErrorCode, string? Message);
