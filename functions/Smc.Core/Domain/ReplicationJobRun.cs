namespace Smc.Core.Domain;

/// <summary>One round of a job and the image it produced.</summary>
public sealed class ReplicationJobRun
{
    public int Round { get; init; }

    /// <summary><c>Manual</c> or <c>Schedule</c>.</summary>
    public string Type { get; init; } = Orchestration.RunTypes.Manual;

    public string? ImageId { get; set; }

    public DateTimeOffset StartTime { get; init; }

    public DateTimeOffset? EndTime { get; set; }

    public long ChangedBytes { get; set; }

    public long UploadedBytes { get; set; }

    /// <summary>
    /// What the agent said of the round's image when it committed it: frozen, crash-consistent, inconsistent or offline,
    /// the freeze instant and window, catch-up passes, bytes read and sent (null before the commit).
    /// </summary>
    public Smc.Wire.Agent.RoundConsistency? Consistency { get; set; }

    /// <summary>The cutover round: once its image is made the job finishes (also when a restart completes its export).</summary>
    public bool Final { get; set; }

    /// <summary>For provider <c>alibaba</c>: the round's image exported to ECS (null for <c>local</c>).</summary>
    public CloudExport? Export { get; set; }

    /// <summary>The boot test of this round's image (status, message, seconds; the console is on the image).</summary>
    public BootTest? BootTest { get; set; }

    /// <summary>For ContainerImage jobs with a registry: the image pushed for this round.</summary>
    public ContainerPushRecord? Container { get; set; }

    /// <summary>
    /// For ContainerImage jobs with a registry: the pushed round this round's layer was captured against (it holds only
    /// what changed since, with whiteouts), or null for a layer of the whole tree. Fixed when the round is first issued.
    /// </summary>
    public int? LayerBase { get; set; }
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

    /// <summary>Every layer of the pushed image, bottom first: the base round's layers, then this round's.</summary>
    public List<ContainerLayerRecord> Layers { get; init; } = [];

    /// <summary>The registry lost a layer of this image (or of the chain under it): later rounds don't build on it.</summary>
    public bool BaseLost { get; set; }

    /// <summary>Retention removed this round's image from the registry (its tag <c>{tag}-r{round}</c> is gone; layers later images use stay).</summary>
    public DateTimeOffset? DeletedAt { get; set; }

    public DateTimeOffset PushedAt { get; init; }
}

/// <summary>One layer of a pushed container image: its blob (gzip), its diff_id (of the tar), and the round that made it.</summary>
public sealed class ContainerLayerRecord
{
    public string Digest { get; init; } = "";

    public long Size { get; init; }

    public string DiffId { get; init; } = "";

    public int Round { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
