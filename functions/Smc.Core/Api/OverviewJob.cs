namespace Smc.Core.Api;

/// <summary>One job as the overview lists it.</summary>
public sealed record OverviewJob(
    string JobId,
    string Name,
    string SourceId,
    string Status,
    string? BusinessStatus,
    int CurrentRound,
    double? LagSeconds,
    double? EtaSeconds,
    DateTimeOffset? NextRoundTime,
    string? ErrorCode,
    string? ErrorMessage);
