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
}
