namespace Smc.Core.Api;

/// <summary><c>POST /api/v1/job-templates</c> and <c>PATCH /api/v1/job-templates/{id}</c>: a name, a description and the job fields it gives.</summary>
public sealed record JobTemplateRequest
{
    public string? Name { get; init; }

    public string? Description { get; init; }

    /// <summary>The template's own tags; on PATCH they replace its tags whole.</summary>
    public Dictionary<string, string>? Tags { get; init; }

    /// <summary>The job fields (as in a create request, without <c>sourceId</c>, <c>templateId</c> and <c>clientToken</c>). On PATCH: replaces the values whole.</summary>
    public CreateReplicationJobRequest? Values { get; init; }
}
