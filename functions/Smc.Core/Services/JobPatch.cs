using System.Text.Json;
using Smc.Core.Domain;
using Smc.Core.Errors;

namespace Smc.Core.Services;

/// <summary>
/// A <c>PATCH /api/v1/replication-jobs/{id}</c>: the fields it changes, each checked when read (pure), and the state
/// rules applied to the job when written. Name, description, tags, wave and bandwidth change any time (bandwidth also
/// mid-round: the next progress report carries it to the agent); syncInterval and retention only while Waiting.
/// </summary>
internal sealed record JobPatch
{
    private const string Accepted = "PATCH accepts name, description, tags, waveId, replicationParameters (bandwidthLimitKBps, bandwidthSchedule), syncInterval and maxNumberOfImageToKeep.";
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    public string? Name { get; private init; }

    public string? Description { get; private init; }

    public string? SyncInterval { get; private init; }

    public int? Keep { get; private init; }

    public Dictionary<string, string>? Tags { get; private init; }

    /// <summary>Given: <see cref="WaveId"/> is the wave to join, or null to leave.</summary>
    public bool SetsWave { get; private init; }

    public string? WaveId { get; private init; }

    public int? BandwidthLimitKBps { get; private init; }

    /// <summary>Given: replaces the schedule (an empty list removes it).</summary>
    public List<BandwidthWindow>? BandwidthSchedule { get; private init; }

    public static JobPatch Parse(JsonElement patch, TimeSpan minInterval)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            throw SmcException.BadRequest(ErrorCodes.MalformedJson, "The body must be a JSON object with the fields to change.");
        }

        var change = new JobPatch();
        foreach (JsonProperty p in patch.EnumerateObject())
        {
            change = p.Name switch
            {
                "name" => change with { Name = Validate.Name(JobRequests.StringOf(p)) },
                "description" => change with { Description = Validate.Description(JobRequests.StringOf(p)) ?? "" },
                "syncInterval" => change with { SyncInterval = Interval(JobRequests.StringOf(p), minInterval) },
                "waveId" => change with { SetsWave = true, WaveId = p.Value.ValueKind == JsonValueKind.Null ? null : WaveService.Check(JobRequests.StringOf(p) ?? "") },
                "tags" => change with
                {
                    Tags = Domain.Tags.Check(p.Value.ValueKind == JsonValueKind.Object ? p.Value.Deserialize<Dictionary<string, string>>() : throw SmcException.BadRequest(ErrorCodes.InvalidTag, "tags must be an object of key: value strings.")),
                },
                "replicationParameters" => Bandwidth(change, p.Value),
                "maxNumberOfImageToKeep" => change with
                {
                    Keep = Validate.Range(p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int k) ? k : -1, 1, 10, 1, ErrorCodes.InvalidMaxNumberOfImageToKeep, "maxNumberOfImageToKeep"),
                },
                _ => throw (typeof(ReplicationJob).GetProperties().Any(x => JsonNamingPolicy.CamelCase.ConvertName(x.Name) == p.Name)
                    ? SmcException.BadRequest(ErrorCodes.ReadOnlyField, $"'{p.Name}' can't be changed after creation. {Accepted}")
                    : SmcException.BadRequest(ErrorCodes.UnknownField, $"Unknown field '{p.Name}'. {Accepted}")),
            };
        }

        return change;
    }

    /// <summary>Applies the change to the job as stored (throws 409/400 when its state doesn't allow a field).</summary>
    public void ApplyTo(ReplicationJob j, TimeSpan minInterval)
    {
        if ((SyncInterval is not null || Keep is not null) && j.Status != JobStatus.Waiting)
        {
            throw ReplicationJobService.StatusDenied(j, "change syncInterval or maxNumberOfImageToKeep", "Waiting");
        }

        if (SyncInterval is not null && j.RunOnce)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, "syncInterval applies to incremental jobs (runOnce: false) only.");
        }

        if (SyncInterval is not null && j.NextRoundTime is { } next && j.SyncInterval is not null)
        {
            // The wait under way is measured anew from its start: next = start of the wait + the new interval.
            j.NextRoundTime = next - Services.SyncInterval.Parse(j.SyncInterval, TimeSpan.Zero) + Services.SyncInterval.Parse(SyncInterval, minInterval);
        }

        j.Name = Name ?? j.Name;
        j.Description = Description ?? j.Description;
        j.SyncInterval = SyncInterval ?? j.SyncInterval;
        j.MaxNumberOfImageToKeep = Keep ?? j.MaxNumberOfImageToKeep;
        j.Tags = Tags ?? j.Tags;
        j.WaveId = SetsWave ? WaveId : j.WaveId;
        j.ReplicationParameters.BandwidthLimitKBps = BandwidthLimitKBps ?? j.ReplicationParameters.BandwidthLimitKBps;
        j.ReplicationParameters.BandwidthSchedule = BandwidthSchedule is null ? j.ReplicationParameters.BandwidthSchedule : BandwidthSchedule.Count == 0 ? null : BandwidthSchedule;
    }

    private static string? Interval(string? interval, TimeSpan minInterval)
    {
        _ = Services.SyncInterval.Parse(interval, minInterval);
        return interval;
    }

    /// <summary>The part of replicationParameters a PATCH may change: the bandwidth limit and schedule.</summary>
    private static JobPatch Bandwidth(JobPatch change, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, "replicationParameters must be an object.");
        }

        foreach (JsonProperty p in value.EnumerateObject())
        {
            change = p.Name switch
            {
                "bandwidthLimitKBps" => change with
                {
                    BandwidthLimitKBps = p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int l) && l is >= 0 and <= Domain.BandwidthSchedule.MaxLimitKBps ? l
                        : throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, $"replicationParameters.bandwidthLimitKBps is 0 (unlimited)–{Domain.BandwidthSchedule.MaxLimitKBps}."),
                },
                "bandwidthSchedule" => change with
                {
                    BandwidthSchedule = Domain.BandwidthSchedule.Check(p.Value.ValueKind == JsonValueKind.Array ? p.Value.Deserialize<List<BandwidthWindow>>(WebJson) : null, ErrorCodes.InvalidReplicationParameters, "replicationParameters.bandwidthSchedule")
                        ?? throw SmcException.BadRequest(ErrorCodes.InvalidReplicationParameters, "replicationParameters.bandwidthSchedule must be a list of {start, end, limitKBps}."),
                },
                _ => throw SmcException.BadRequest(ErrorCodes.ReadOnlyField, $"replicationParameters.{p.Name} can't be changed after creation; PATCH changes bandwidthLimitKBps and bandwidthSchedule."),
            };
        }

        return change;
    }
}
