namespace Smc.Wire.Agent;

/// <summary>
/// Where an agent measures its upload rate to staging (the pre-flight check's <c>staging.throughput</c>): a
/// create/write-only SAS to a container of the source's own, and how many bytes to send. The control plane counts what
/// landed there when the report arrives, then deletes it.
/// </summary>
public sealed class StagingProbe
{
    /// <summary>Container URL with its SAS query. A secret: never log it.</summary>
    public required string ContainerUrl { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Bytes to upload, as one block blob named <see cref="BlobName"/>.</summary>
    public int Bytes { get; init; }

    public const string BlobName = "throughput";

    /// <summary>What the control plane asks for: 16 MiB, a few seconds on a slow link, enough to see the rate.</summary>
    public const int DefaultBytes = 16 << 20;
}
