using System.Text.Json;
using System.Text.Json.Nodes;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Inventory import and export (issue 19): operators plan a migration in a spreadsheet. An import row names a source
/// and the job it should have; the source's unfinished job is created if it has none, else changed where the row's own
/// fields differ — so importing the same rows again changes nothing. Each row goes through the single calls (create,
/// PATCH) and gets their answer: <c>created</c>, <c>updated</c> (which fields), <c>unchanged</c>, or an error with its
/// code and fix; a bad row never stops the others. A wave named but not there is created (by name); a template must
/// exist. The export lists the jobs with the import's columns first, so it imports back unchanged.
/// </summary>
public sealed class InventoryService(
    IRecordStore<SourceServer> sources,
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<JobTemplate> templates,
    IRecordStore<Wave> waves,
    IKeyIndex keys,
    ReplicationJobService jobService,
    WaveService waveService)
{
    public const int MaxRows = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<List<InventoryResult>> ImportAsync(IReadOnlyList<InventoryRow> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count is 0 or > MaxRows)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"An import holds 1–{MaxRows} rows; this one has {rows.Count}.");
        }

        var known = await Known.LoadAsync(sources, templates, waves, cancellationToken);
        var results = new List<InventoryResult>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            InventoryRow row = rows[i];
            string? sourceId = row.SourceId;
            try
            {
                if (row.ReadError is { } unreadable)
                {
                    results.Add(new InventoryResult(i + 1, "error", sourceId, null, null, [], unreadable));
                    continue;
                }

                sourceId = known.Source(row);
                results.Add(await ImportRowAsync(i + 1, row, sourceId, known, cancellationToken));
            }
            catch (SmcException e) when (e.Status < 500)
            {
                results.Add(new InventoryResult(i + 1, "error", sourceId, null, null, [], new InventoryError(e.Code, e.Message)));
            }
        }

        return results;
    }

    private async Task<InventoryResult> ImportRowAsync(int number, InventoryRow row, string sourceId, Known known, CancellationToken cancellationToken)
    {
        JobTemplate? template = row.Template is null ? null : known.Template(row.Template);
        string? waveId = row.Wave is null ? null : known.WaveId(row.Wave) ?? await CreateWaveAsync(row.Wave, known, cancellationToken);
        ReplicationJob? existing = await UnfinishedJobAsync(sourceId, cancellationToken);

        // A job's tags are its template's under the row's, as at creation (the job's own template when the row names none).
        JobTemplate? tagBase = template ?? (existing?.TemplateId is { } made ? known.TemplateOrNull(made) : null);
        Dictionary<string, string>? tags = row.Tags is null ? null : Tags.Merge(tagBase?.Values.Tags, Tags.Check(row.Tags));
        if (existing is null)
        {
            CreatedJob created = await jobService.CreateAsync(new CreateReplicationJobRequest
            {
                SourceId = sourceId,
                TemplateId = template?.TemplateId,
                WaveId = waveId,
                Name = row.Name,
                Description = row.Description,
                Tags = row.Tags,
                RunOnce = row.RunOnce,
                SyncInterval = row.SyncInterval,
                MaxNumberOfImageToKeep = row.MaxNumberOfImageToKeep,
                ImageName = row.ImageName,
                TargetType = row.TargetType,
                ImageProvider = row.ImageProvider,
                RegionId = row.RegionId,
            }, cancellationToken);
            return new InventoryResult(number, "created", sourceId, created.JobId, waveId, [], null);
        }

        // What can't change on a job: a row that asks otherwise is an error that says what to do, not a silent skip.
        string? Fixed(string field, object? wanted, object? has) =>
            wanted is null || Equals(wanted, has) ? null : $"{field} is {Shown(has)} on job {existing.JobId}, the row says {Shown(wanted)}";
        string?[] refused =
        [
            Fixed("template", template?.TemplateId, existing.TemplateId),
            Fixed("runOnce", row.RunOnce, existing.RunOnce),
            Fixed("targetType", row.TargetType, existing.TargetType),
            Fixed("imageProvider", row.ImageProvider, existing.ImageProvider),
            Fixed("regionId", row.RegionId, existing.RegionId),
            Fixed("imageName", row.ImageName is null ? null : JobNaming.WithSource(row.ImageName, known.SourceName(sourceId)), existing.ImageName),
        ];
        if (refused.FirstOrDefault(r => r is not null) is { } why)
        {
            throw SmcException.BadRequest(ErrorCodes.ReadOnlyField, $"{why}: that can't change on an existing job — change the row, or delete the job and import again.");
        }

        var patch = new JsonObject();
        string? name = row.Name is null ? null : JobNaming.WithSource(row.Name, known.SourceName(sourceId));
        if (name is not null && name != existing.Name)
        {
            patch["name"] = name;
        }

        if (row.Description is not null && row.Description != (existing.Description ?? ""))
        {
            patch["description"] = row.Description;
        }

        if (tags is not null && !SameTags(tags, existing.Tags))
        {
            patch["tags"] = JsonSerializer.SerializeToNode(tags, Json);
        }

        if (waveId is not null && waveId != existing.WaveId)
        {
            patch["waveId"] = waveId;
        }

        if (row.SyncInterval is not null && row.SyncInterval != existing.SyncInterval)
        {
            patch["syncInterval"] = row.SyncInterval;
        }

        if (row.MaxNumberOfImageToKeep is { } keep && keep != existing.MaxNumberOfImageToKeep)
        {
            patch["maxNumberOfImageToKeep"] = keep;
        }

        if (patch.Count == 0)
        {
            return new InventoryResult(number, "unchanged", sourceId, existing.JobId, existing.WaveId, [], null);
        }

        using JsonDocument body = JsonDocument.Parse(patch.ToJsonString());
        ReplicationJob updated = await jobService.PatchAsync(existing.JobId, body.RootElement, cancellationToken);
        return new InventoryResult(number, "updated", sourceId, updated.JobId, updated.WaveId, [.. patch.Select(p => p.Key)], null);
    }

    /// <summary>Every job, with the import's columns first, newest first (filtered like the job list).</summary>
    public async Task<List<InventoryExportRow>> ExportAsync(string? waveId, TagFilter? tags, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var known = await Known.LoadAsync(sources, templates, waves, cancellationToken);
        var rows = new List<InventoryExportRow>();
        await foreach (Stored<ReplicationJob> stored in jobs.ListAsync(cancellationToken))
        {
            ReplicationJob j = stored.Value;
            if ((waveId is not null && j.WaveId != waveId) || (tags is not null && !tags.Matches(j.Tags)))
            {
                continue;
            }

            ReplicationJobRun? last = j.ReplicationJobRuns.Where(r => r.EndTime is not null).MaxBy(r => r.Round);
            DateTimeOffset? newestImage = j.ReplicationJobRuns.Where(r => r.ImageId is not null && r.EndTime is not null).Select(r => r.EndTime).Max();
            rows.Add(new InventoryExportRow(
                j.SourceId,
                known.SourceName(j.SourceId),
                j.Name,
                j.Description,
                j.TemplateId is null ? null : known.TemplateRef(j.TemplateId),
                j.WaveId is null ? null : known.WaveRef(j.WaveId),
                j.Tags,
                j.RunOnce,
                j.SyncInterval,
                j.MaxNumberOfImageToKeep,
                j.ImageName,
                j.TargetType,
                j.ImageProvider,
                j.RegionId,
                j.JobId,
                j.Status,
                j.CurrentRound,
                last?.EndTime,
                !j.RunOnce && newestImage is { } t ? Math.Round((now - t).TotalSeconds, 1) : null,
                [.. j.ReplicationJobRuns.Where(r => r.ImageId is not null).OrderBy(r => r.Round).Select(r => r.ImageId!)],
                j.StatusInfo.ErrorCode is { } code ? $"{code}: {j.StatusInfo.ErrorMessage}" : null));
        }

        return [.. rows.OrderByDescending(r => r.JobId, StringComparer.Ordinal)];
    }

    private async Task<string> CreateWaveAsync(string name, Known known, CancellationToken cancellationToken)
    {
        WaveView created = await waveService.CreateAsync(new WaveRequest { Name = name }, cancellationToken);
        known.AddWave(created.Wave);
        return created.Wave.WaveId;
    }

    private async Task<ReplicationJob?> UnfinishedJobAsync(string sourceId, CancellationToken cancellationToken)
    {
        string? jobId = await keys.GetAsync(KeyScopes.SourceJob, sourceId, cancellationToken);
        ReplicationJob? job = jobId is null ? null : (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        return job is not null && JobStatus.IsUnfinished(job.Status) ? job : null;
    }

    private static bool SameTags(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out string? v) && v == kv.Value);

    private static string Shown(object? value) => value switch
    {
        null => "not set",
        bool b => b ? "true" : "false",
        _ => $"'{value}'",
    };

    /// <summary>Sources, templates and waves by id and by name, read once per import or export.</summary>
    private sealed class Known
    {
        private readonly Dictionary<string, SourceServer> _sources = new(StringComparer.Ordinal);
        private readonly Dictionary<string, JobTemplate> _templates = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Wave> _waves = new(StringComparer.Ordinal);

        public static async Task<Known> LoadAsync(IRecordStore<SourceServer> sources, IRecordStore<JobTemplate> templates, IRecordStore<Wave> waves, CancellationToken cancellationToken)
        {
            var known = new Known();
            await foreach (Stored<SourceServer> s in sources.ListAsync(cancellationToken))
            {
                if (s.Value.State != SourceState.Deleting)
                {
                    known._sources[s.Value.SourceId] = s.Value;
                }
            }

            await foreach (Stored<JobTemplate> t in templates.ListAsync(cancellationToken))
            {
                known._templates[t.Value.TemplateId] = t.Value;
            }

            await foreach (Stored<Wave> w in waves.ListAsync(cancellationToken))
            {
                known._waves[w.Value.WaveId] = w.Value;
            }

            return known;
        }

        public void AddWave(Wave wave) => _waves[wave.WaveId] = wave;

        public string SourceName(string sourceId) => _sources.TryGetValue(sourceId, out SourceServer? s) ? s.Name : sourceId;

        /// <summary>The row's source: its id if registered, else the one source with its name.</summary>
        public string Source(InventoryRow row)
        {
            if (row.SourceId is { } id)
            {
                return _sources.ContainsKey(id) ? id
                    : throw SmcException.NotFound(ErrorCodes.SourceNotFound, $"No source server '{id}'. Register it with smc-agent first, or fix the sourceId.");
            }

            if (string.IsNullOrWhiteSpace(row.SourceName))
            {
                throw SmcException.BadRequest(ErrorCodes.MissingParameter, "Each row needs sourceId or sourceName: the source server the job is for.");
            }

            List<SourceServer> named = [.. _sources.Values.Where(s => s.Name == row.SourceName)];
            return named.Count switch
            {
                1 => named[0].SourceId,
                0 => throw SmcException.NotFound(ErrorCodes.SourceNotFound, $"No source server is named '{row.SourceName}'. Register it with smc-agent first, or give its sourceId."),
                _ => throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"{named.Count} source servers are named '{row.SourceName}' ({string.Join(", ", named.Select(s => s.SourceId))}): give the sourceId."),
            };
        }

        public JobTemplate? TemplateOrNull(string templateId) => _templates.GetValueOrDefault(templateId);

        public JobTemplate Template(string reference) =>
            _templates.TryGetValue(reference, out JobTemplate? t) ? t
            : ByName(_templates.Values, x => x.Name, reference, "job templates") ?? throw SmcException.NotFound(ErrorCodes.TemplateNotFound, $"No job template '{reference}' (by id or name). Create it (POST /api/v1/job-templates) or fix the row.");

        /// <summary>The wave by id or name; null when no wave has that name (the import creates it). An unknown id is an error.</summary>
        public string? WaveId(string reference)
        {
            if (_waves.ContainsKey(reference))
            {
                return reference;
            }

            if (Ids.IsWellFormed(reference, Ids.WavePrefix))
            {
                throw WaveService.NotFound(reference);
            }

            return ByName(_waves.Values, w => w.Name, reference, "waves")?.WaveId;
        }

        /// <summary>How an export names a template or wave: its name when no other has it, else its id.</summary>
        public string TemplateRef(string id) => _templates.TryGetValue(id, out JobTemplate? t) && _templates.Values.Count(x => x.Name == t.Name) == 1 ? t.Name : id;

        public string WaveRef(string id) => _waves.TryGetValue(id, out Wave? w) && _waves.Values.Count(x => x.Name == w.Name) == 1 ? w.Name : id;

        private static T? ByName<T>(IEnumerable<T> all, Func<T, string> name, string reference, string what)
            where T : class
        {
            List<T> named = [.. all.Where(x => name(x) == reference)];
            return named.Count <= 1 ? named.FirstOrDefault()
                : throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"{named.Count} {what} are named '{reference}': give the id.");
        }
    }
}
