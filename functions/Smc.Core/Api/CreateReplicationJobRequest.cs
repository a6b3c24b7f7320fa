using Smc.Core.Domain;

namespace Smc.Core.Api;

/// <summary><c>POST /api/v1/replication-jobs</c> (SMC's CreateReplicationJob, camelCased).</summary>
public sealed record CreateReplicationJobRequest
{
    public string? SourceId { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public string? TargetType { get; init; }

    public string? ImageProvider { get; init; }

    public string? RegionId { get; init; }

    public string? ImageName { get; init; }

    public int? SystemDiskSize { get; init; }

    public List<DiskPartSpec>? SystemDiskParts { get; init; }

    public List<DataDiskSpec>? DataDisks { get; init; }

    public bool? RunOnce { get; init; }

    public string? SyncInterval { get; init; }

    public int? MaxNumberOfImageToKeep { get; init; }

    public DateTimeOffset? ScheduledStartTime { get; init; }

    /// <summary>Incremental jobs: when the job expires (SMC's ValidTime); null = never.</summary>
    public DateTimeOffset? ValidTime { get; init; }

    public ReplicationParameters? ReplicationParameters { get; init; }

    public string? ContainerNamespace { get; init; }

    public string? ContainerRepository { get; init; }

    public string? ContainerTag { get; init; }

    public string? ContainerRegistry { get; init; }

    /// <summary>ContainerImage: how the image runs (OCI config Entrypoint, Cmd, Env, WorkingDir, ExposedPorts).</summary>
    public List<string>? Entrypoint { get; init; }

    public List<string>? Cmd { get; init; }

    public List<string>? Env { get; init; }

    public string? WorkingDir { get; init; }

    public List<string>? ExposedPorts { get; init; }

    /// <summary>ContainerImage: paths left out of the capture (with everything under them), and paths captured even on another mount.</summary>
    public List<string>? ExcludePaths { get; init; }

    public List<string>? IncludePaths { get; init; }

    /// <summary>Provider alibaba: a test launch of the final image (SMC's LaunchTemplateId/Version, or InstanceType + VSwitchId + our SecurityGroupId).</summary>
    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateVersion { get; init; }

    public string? InstanceType { get; init; }

    public string? VSwitchId { get; init; }

    public string? SecurityGroupId { get; init; }

    public string? ClientToken { get; init; }

    /// <summary>The job's tags (<see cref="Domain.Tags"/>); with a template, added to the template's (this request's value wins for a key).</summary>
    public Dictionary<string, string>? Tags { get; init; }

    /// <summary>A wave (<c>wv-…</c>) the job joins when created.</summary>
    public string? WaveId { get; init; }

    /// <summary>A job template (<c>jt-…</c>) whose values this job takes; a field given here overrides the template's.</summary>
    public string? TemplateId { get; init; }
}
