namespace Smc.Core.Domain;

/// <summary>An image made by a job's round for provider <c>local</c> (<c>m-…</c>): its disks are kept in the control plane's storage.</summary>
public sealed class LocalImage
{
    public required string ImageId { get; init; }

    public required string JobId { get; init; }

    public required string SourceId { get; init; }

    public string? ImageName { get; init; }

    public int Round { get; init; }

    /// <summary><c>Creating</c> while assembled, then <c>Available</c>.</summary>
    public string Status { get; set; } = "Creating";

    public string? Platform { get; init; }

    public string? Architecture { get; init; }

    public List<ImageDisk> Disks { get; set; } = [];

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Whether the system disk will boot on the target, read from the image's own bytes (Image jobs; null for container rounds).</summary>
    public BootReadiness? BootReadiness { get; set; }

    /// <summary>Whether it booted in a virtual machine (Image jobs; <c>NotRun</c> when boot tests are off; null until tested).</summary>
    public BootTest? BootTest { get; set; }
}
