using System.Text.Json.Serialization;

namespace Smc.Wire.Staging;

/// <summary>
/// What one round of a job staged: the wrapped data key and where every chunk sent in the round lies in which pack.
/// Uploaded as <see cref="StagingNames.Manifest"/> after all the round's packs and before the commit marker
/// (docs/wire-format.md, "Manifest").
/// </summary>
public sealed class RoundManifest : IVersionedDocument
{
    /// <summary>The manifest format this code writes; readers accept every version from 1 to this one.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Format of this document; required in JSON.</summary>
    [JsonRequired]
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    public required string JobId { get; set; }

    public int Round { get; set; }

    /// <summary>Base64 of the round's 32-byte AES-256 data key wrapped with RSA-OAEP-SHA256 under the job public key.</summary>
    public required string WrappedDataKey { get; set; }

    /// <summary>Lowercase hex SHA-256 of the job public key's SubjectPublicKeyInfo DER: which key unwraps the data key.</summary>
    public required string KeyFingerprint { get; set; }

    /// <summary>The chunk grid in bytes (1 MiB): no chunk is longer, and none crosses a multiple of it.</summary>
    public int ChunkSize { get; set; }

    public List<ManifestDisk> Disks { get; set; } = [];

    /// <summary>Every chunk sent in this round, in any order; chunks never overlap.</summary>
    public List<ManifestChunk> Chunks { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Version of the agent that wrote the round, for diagnostics.</summary>
    public required string AgentVersion { get; set; }
}
