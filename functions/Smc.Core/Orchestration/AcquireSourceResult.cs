namespace Smc.Core.Orchestration;

/// <summary>What <see cref="AcquireSourceActivity"/> found: whether the job now holds its source.</summary>
public sealed record AcquireSourceResult(AcquireOutcome Outcome, string? SourceState, string? Message);
