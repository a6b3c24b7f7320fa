using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Job templates: create, list, read, change and delete them, and expand a create request that names one. A template's
/// values are checked when it is saved by the same rules as a job (<see cref="JobRequests.Build"/>), so a bad template
/// is refused once rather than at every job made from it.
/// </summary>
public sealed class JobTemplateService(IRecordStore<JobTemplate> templates, IRecordStore<SourceServer> sources, TimeProvider clock)
{
    /// <summary>A well-formed source id that no source has: what template values are checked against.</summary>
    private const string CheckSourceId = "s-aaaaaaaaaaaaaaaa";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public async Task<JobTemplate> CreateAsync(JobTemplateRequest request, CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = clock.GetUtcNow();
        var template = new JobTemplate
        {
            TemplateId = Ids.New(Ids.TemplatePrefix),
            Name = Validate.Name(request.Name),
            Description = Validate.Description(request.Description),
            Tags = Tags.Check(request.Tags) ?? [],
            Values = CheckValues(request.Values ?? new CreateReplicationJobRequest()),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await templates.InsertAsync(template.TemplateId, template, cancellationToken);
        return template;
    }

    public async Task<Page<JobTemplate>> ListAsync(string? name, PageRequest page, TagFilter? tags = null, CancellationToken cancellationToken = default)
    {
        var all = new List<JobTemplate>();
        await foreach (Stored<JobTemplate> t in templates.ListAsync(cancellationToken))
        {
            if ((name is null || t.Value.Name.Contains(name, StringComparison.OrdinalIgnoreCase)) && (tags is null || tags.Matches(t.Value.Tags)))
            {
                all.Add(t.Value);
            }
        }

        return page.Apply([.. all.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.TemplateId, StringComparer.Ordinal)]);
    }

    public async Task<JobTemplate> GetAsync(string templateId, CancellationToken cancellationToken = default) =>
        (await templates.GetAsync(Check(templateId), cancellationToken))?.Value ?? throw NotFound(templateId);

    /// <summary>Changes the name, description or values (values replace the template's whole); jobs made before keep theirs.</summary>
    public async Task<JobTemplate> PatchAsync(string templateId, JobTemplateRequest request, CancellationToken cancellationToken = default)
    {
        string? name = request.Name is null ? null : Validate.Name(request.Name);
        string? description = Validate.Description(request.Description);
        CreateReplicationJobRequest? values = request.Values is null ? null : CheckValues(request.Values);
        Dictionary<string, string>? tags = Tags.Check(request.Tags);
        Stored<JobTemplate> stored = await templates.UpdateAsync(Check(templateId), t =>
        {
            t.Name = name ?? t.Name;
            t.Description = description ?? t.Description;
            t.Values = values ?? t.Values;
            t.Tags = tags ?? t.Tags;
            t.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken: cancellationToken) ?? throw NotFound(templateId);
        return stored.Value;
    }

    public async Task DeleteAsync(string templateId, CancellationToken cancellationToken = default)
    {
        if (!await templates.DeleteAsync(Check(templateId), cancellationToken: cancellationToken))
        {
            throw NotFound(templateId);
        }
    }

    /// <summary>
    /// The request a job is built from: the template's values under the request's own (a field the request gives replaces
    /// the template's, an object such as <c>replicationParameters</c> whole), and <c>{source}</c> in <c>name</c> and
    /// <c>imageName</c> filled in with the source server's name.
    /// </summary>
    public async Task<CreateReplicationJobRequest> ExpandAsync(CreateReplicationJobRequest request, CancellationToken cancellationToken = default)
    {
        CreateReplicationJobRequest expanded = request;
        if (request.TemplateId is { } templateId)
        {
            JobTemplate template = await GetAsync(templateId, cancellationToken);
            JsonObject merged = JsonSerializer.SerializeToNode(template.Values, Json)!.AsObject();
            foreach ((string field, JsonNode? value) in JsonSerializer.SerializeToNode(request, Json)!.AsObject())
            {
                merged[field] = value?.DeepClone();
            }

            expanded = merged.Deserialize<CreateReplicationJobRequest>(Json)! with
            {
                // Tags add up: the template's, then the request's (its value wins for a key).
                Tags = template.Values.Tags is null && request.Tags is null ? null : Tags.Merge(template.Values.Tags, request.Tags),
            };
        }

        if ((JobNaming.NeedsSource(expanded.Name) || JobNaming.NeedsSource(expanded.ImageName)) && Ids.IsWellFormed(expanded.SourceId, Ids.SourcePrefix))
        {
            SourceServer? source = (await sources.GetAsync(expanded.SourceId!, cancellationToken))?.Value;
            if (source is not null)
            {
                expanded = expanded with { Name = JobNaming.WithSource(expanded.Name, source.Name), ImageName = JobNaming.WithSource(expanded.ImageName, source.Name) };
            }
        }

        return expanded;
    }

    /// <summary>The values as a job would take them (placeholders filled with examples), or a 400 with the rule's code.</summary>
    private static CreateReplicationJobRequest CheckValues(CreateReplicationJobRequest values)
    {
        if (values.SourceId is not null || values.TemplateId is not null || values.ClientToken is not null || values.WaveId is not null)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidTemplate, "A template's values can't hold sourceId, templateId, waveId or clientToken: each job gives its own.");
        }

        string? Example(string? text) => JobNaming.WithSource(text, "web-01")?.Replace(JobNaming.Round, "1", StringComparison.Ordinal);
        _ = JobRequests.Build(
            values with { SourceId = CheckSourceId, Name = Example(values.Name) ?? "template-check", ImageName = Example(values.ImageName) },
            Ids.New(Ids.JobPrefix),
            DateTimeOffset.UnixEpoch);
        return values;
    }

    private static string Check(string templateId) =>
        Ids.IsWellFormed(templateId, Ids.TemplatePrefix) ? templateId : throw NotFound(templateId);

    private static SmcException NotFound(string templateId) =>
        SmcException.NotFound(ErrorCodes.TemplateNotFound, $"No job template '{templateId}'. List templates with GET /api/v1/job-templates.");
}
