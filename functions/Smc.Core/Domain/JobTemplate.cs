using Smc.Core.Api;

namespace Smc.Core.Domain;

/// <summary>
/// A named job template (issue 19): the fields of a replication job a team sets once — target, provider and region,
/// replication parameters, schedule, retention, container settings, image naming with <c>{source}</c> and
/// <c>{round}</c>. A job created with its <c>templateId</c> takes these values and overrides any of them; the values are
/// copied into the job, so changing the template changes only jobs created afterwards.
/// </summary>
public sealed class JobTemplate
{
    public required string TemplateId { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>The template's own tags (filterable); the tags its jobs get are <c>values.tags</c>.</summary>
    public Dictionary<string, string> Tags { get; set; } = [];

    /// <summary>The job fields it gives: any field of a create request but <c>sourceId</c>, <c>templateId</c> and <c>clientToken</c>.</summary>
    public required CreateReplicationJobRequest Values { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}
