namespace Smc.Wire.Agent;

/// <summary>A short-lived, create/write-only SAS URL of one job's staging container.</summary>
public sealed class StagingCredentials
{
    /// <summary>Container URL with its SAS query. A secret: never log it.</summary>
    public required string ContainerUrl { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The job's 32-byte chunk fingerprint key, base64 (docs/wire-format.md, "Fingerprints"). A secret: never log it.</summary>
    public required string FingerprintKey { get; init; }
}
