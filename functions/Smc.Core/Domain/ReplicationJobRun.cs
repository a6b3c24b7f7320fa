namespace Smc.Core.Domain;

/// <summary>One round of a job and the image it produced.</summary>
public sealed class ReplicationJobRun
{
    public int Round { get; init; }

    /// <summary><c>Manual</c> or <c>Schedule</c>.</summary>
    public string Type { get; init; } = "Manual";

    public string? ImageId { get; set; }

    public DateTimeOffset StartTime { get; init; }

    public DateTimeOffset? EndTime { get; set; }

    public long ChangedBytes { get; set; }

    public long UploadedBytes { get; set; }

    /// <summary>The cutover round: once its image is made the job finishes (also when a restart completes its export).</summary>
    public bool Final { get; set; }

    /// <summary>For provider <c>alibaba</c>: the round's image exported to ECS (null for <c>local</c>).</summary>
    public CloudExport? Export { get; set; }

    /// <summary>For ContainerImage jobs with a registry: the image pushed for this round.</summary>
    public ContainerPushRecord? Container { get; set; }
}

/// <summary>A round's container image in its registry.</summary>
public sealed class ContainerPushRecord
{
    public string Registry { get; init; } = "";

    public string Repository { get; init; } = "";

    public List<string> Tags { get; init; } = [];

    public string ManifestDigest { get; init; } = "";

    public string LayerDigest { get; init; } = "";

    public long LayerBytes { get; init; }

    public DateTimeOffset PushedAt { get; init; }
}
