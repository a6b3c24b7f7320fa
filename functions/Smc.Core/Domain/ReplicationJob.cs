namespace Smc.Core.Domain;

/// <summary>A replication job; field names follow SMC's <c>CreateReplicationJob</c>, camelCased (docs/api.md).</summary>
public sealed class ReplicationJob : Ports.IDueRecord
{
    public required string JobId { get; init; }

    public required string SourceId { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public string TargetType { get; init; } = Domain.TargetType.Image;

    public string ImageProvider { get; init; } = Domain.ImageProvider.Local;

    public string? RegionId { get; init; }

    public string? ImageName { get; init; }

    /// <summary>The template the job was created from (its values were copied; a later change of the template does not reach it).</summary>
    public string? TemplateId { get; init; }

    /// <summary>Tags (<see cref="Domain.Tags"/>): filterable in lists; with its source's, carried to the images it makes. PATCH replaces them.</summary>
    public Dictionary<string, string> Tags { get; set; } = [];

    /// <summary>The wave the job belongs to (<c>wv-…</c>), if any.</summary>
    public string? WaveId { get; set; }

    /// <summary>GiB; null means the source system disk's size.</summary>
    public int? SystemDiskSize { get; init; }

    public List<DiskPartSpec> SystemDiskParts { get; init; } = [];

    public List<DataDiskSpec> DataDisks { get; init; } = [];

    public bool RunOnce { get; init; } = true;

    /// <summary>ISO-8601 duration between incremental rounds (<c>PT5M</c> … <c>P7D</c>).</summary>
    public string? SyncInterval { get; set; }

    public int MaxNumberOfImageToKeep { get; set; } = 1;

    public DateTimeOffset? ScheduledStartTime { get; init; }

    /// <summary>
    /// Incremental jobs: once this time has passed, housekeeping ends the job as <c>Expired</c> (its kept images stay, its
    /// staging goes, the source is free). Null: it never expires.
    /// </summary>
    public DateTimeOffset? ValidTime { get; init; }

    /// <summary>
    /// When housekeeping must look at the job: its <see cref="ValidTime"/> while it is unfinished, never once it ended — so
    /// the sweep for expired jobs reads those that may expire, not every job ever made. Not part of the job's JSON.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? DueAt => JobStatus.IsUnfinished(Status) ? ValidTime : null;

    public ReplicationParameters ReplicationParameters { get; init; } = new();

    public string? ContainerNamespace { get; init; }

    public string? ContainerRepository { get; init; }

    public string? ContainerTag { get; init; }

    public string? ContainerRegistry { get; init; }

    public List<string> Entrypoint { get; init; } = [];

    public List<string> Cmd { get; init; } = [];

    public List<string> Env { get; init; } = [];

    public string? WorkingDir { get; init; }

    public List<string> ExposedPorts { get; init; } = [];

    /// <summary>ContainerImage: left out of the capture / captured even where another file system is mounted.</summary>
    public List<string> ExcludePaths { get; init; } = [];

    public List<string> IncludePaths { get; init; } = [];

    /// <summary>Provider alibaba: how the final image is test-launched (null: no launch).</summary>
    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateVersion { get; init; }

    public string? InstanceType { get; init; }

    public string? VSwitchId { get; init; }

    public string? SecurityGroupId { get; init; }

    /// <summary>The instance the test launch started (SMC's InstanceId).</summary>
    public string? InstanceId { get; set; }

    public bool WantsTestLaunch => LaunchTemplateId is not null || InstanceType is not null;

    public string? ClientToken { get; init; }

    public string Status { get; set; } = JobStatus.Ready;

    /// <summary>Stage while <c>Running</c>: <c>Preparing → Syncing → Processing → Cleaning</c>; null otherwise.</summary>
    public string? BusinessStatus { get; set; }

    public double Progress { get; set; }

    public List<DiskProgress> Disks { get; set; } = [];

    /// <summary>Upload throughput of the running round, bytes per second.</summary>
    public double Throughput { get; set; }

    /// <summary>Estimated seconds until the running round's upload ends.</summary>
    public double? EtaSeconds { get; set; }

    /// <summary>
    /// Incremental jobs: age in seconds of the newest image (how far the destination lags the source), set when the job is
    /// read; null before the first image and for one-shot jobs.
    /// </summary>
    public double? LagSeconds { get; set; }

    /// <summary>A copy whose own fields can be set without touching this one (lists and runs are shared).</summary>
    public ReplicationJob ShallowCopy() => (ReplicationJob)MemberwiseClone();

    /// <summary>While Waiting: when the next scheduled round starts (a PATCH of syncInterval moves it).</summary>
    public DateTimeOffset? NextRoundTime { get; set; }

    /// <summary>Incremental jobs: paused (POST …/pause) — no scheduled round starts until resumed; state, images and manual rounds stay.</summary>
    public bool Paused { get; set; }

    public DateTimeOffset? PausedAt { get; set; }

    /// <summary>While paused: when a scheduled round came due and was held (it runs on resume).</summary>
    public DateTimeOffset? HeldSince { get; set; }

    public int CurrentRound { get; set; }

    public List<ReplicationJobRun> ReplicationJobRuns { get; set; } = [];

    /// <summary>Runs a job record keeps beside those still holding something (see <see cref="BoundRunHistory"/>).</summary>
    public const int MaxRunsKept = 100;

    /// <summary>
    /// Keeps the record bounded however many rounds run (a table entity is at most 1 MiB, and a record that can't be
    /// written leaves the job stuck): only the newest pushed container run keeps the whole layer list (the next layer
    /// goes on top of it; older runs keep their own layer), and ended runs beyond the newest <see cref="MaxRunsKept"/>
    /// leave the record unless their image is still kept or their push is the newest. What leaves is returned, for the
    /// run archive (<c>RunArchive</c>): history moves, it isn't lost.
    /// </summary>
    public List<ReplicationJobRun> BoundRunHistory()
    {
        ReplicationJobRun? newestPushed = NewestPushed();
        foreach (ReplicationJobRun run in ReplicationJobRuns.Where(r => r.Container is not null && r != newestPushed))
        {
            run.Container!.Layers.RemoveAll(l => l.Round != run.Round);
        }

        List<ReplicationJobRun> leaving = RunsOverBound(0);
        ReplicationJobRuns.RemoveAll(leaving.Contains);
        return leaving;
    }

    /// <summary>
    /// The ended runs <see cref="BoundRunHistory"/> would take out of the record once <paramref name="reserve"/> more runs
    /// were added: what to archive before an update that adds a run, so a crash between the two loses nothing.
    /// </summary>
    public List<ReplicationJobRun> RunsOverBound(int reserve)
    {
        ReplicationJobRun? newestPushed = NewestPushed();
        HashSet<int> keep = [.. ReplicationJobRuns.OrderByDescending(r => r.Round).Take(Math.Max(0, MaxRunsKept - reserve)).Select(r => r.Round)];
        keep.UnionWith(ReplicationJobRuns.Where(r => r.ImageId is not null).OrderByDescending(r => r.Round).Take(Math.Max(1, MaxNumberOfImageToKeep)).Select(r => r.Round));
        return [.. ReplicationJobRuns.Where(r => r.EndTime is not null && r != newestPushed && !keep.Contains(r.Round))];
    }

    private ReplicationJobRun? NewestPushed() => ReplicationJobRuns.Where(r => r.Container is { Layers.Count: > 0 }).MaxBy(r => r.Round);

    public string? ErrorCode { get; set; }

    public StatusInfo StatusInfo { get; set; } = new();

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? StartTime { get; set; }

    public DateTimeOffset? EndTime { get; set; }
}
