namespace Smc.Core.Api;

/// <summary>
/// One row of an inventory import (<c>POST /api/v1/imports</c>, CSV or JSON): a source server — by <see cref="SourceId"/>
/// or by its <see cref="SourceName"/> — and the job it should have: a template and a wave (each by id or name), tags,
/// and overrides of the job's fields. Null: the row doesn't say (the template's value, or the job's as it is).
/// </summary>
public sealed record InventoryRow
{
    public string? SourceId { get; init; }

    public string? SourceName { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public string? Template { get; init; }

    public string? Wave { get; init; }

    public Dictionary<string, string>? Tags { get; init; }

    public bool? RunOnce { get; init; }

    public string? SyncInterval { get; init; }

    public int? MaxNumberOfImageToKeep { get; init; }

    public string? ImageName { get; init; }

    public string? TargetType { get; init; }

    public string? ImageProvider { get; init; }

    public string? RegionId { get; init; }

    /// <summary>Set by a reader that couldn't read the row (a value of the wrong kind): the row is reported, nothing done.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public InventoryError? ReadError { get; init; }
}

/// <summary>A row's error: the code and message its single call would have answered.</summary>
public sealed record InventoryError(string Code, string Message);

/// <summary>A row's outcome: <c>created</c>, <c>updated</c> (with the fields changed), <c>unchanged</c> or <c>error</c>.</summary>
public sealed record InventoryResult(int Row, string Status, string? SourceId, string? JobId, string? WaveId, IReadOnlyList<string> Changed, InventoryError? Error);

/// <summary>A job as an export gives it: the import's columns (so an export imports back unchanged), then its state.</summary>
public sealed record InventoryExportRow(
    string SourceId,
    string SourceName,
    string Name,
    string? Description,
    string? Template,
    string? Wave,
    IReadOnlyDictionary<string, string> Tags,
    bool RunOnce,
    string? SyncInterval,
    int MaxNumberOfImageToKeep,
    string? ImageName,
    string TargetType,
    string ImageProvider,
    string? RegionId,
    string JobId,
    string Status,
    int CurrentRound,
    DateTimeOffset? LastRoundEnd,
    double? LagSeconds,
    IReadOnlyList<string> Images,
    string? LastError);
