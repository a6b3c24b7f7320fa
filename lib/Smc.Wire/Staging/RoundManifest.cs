using System.Text.Json.Serialization;

namespace Smc.Wire.Staging;

/// <summary>
/// What one round of a job staged: the wrapped data key and where every chunk sent in the round lies in which pack.
/// Uploaded as <see cref="StagingNames.Manifest"/> after all the round's packs and before the commit marker
/// (docs/wire-format.md, "Manifest").
/// </summary>
public sealed class RoundManifest : IVersionedDocument, IChunkedDocument<ManifestChunk>
{
    /// <summary>The manifest format this code writes; readers accept every version from 1 to this one.</summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>The version a round without a base is written in (readable by version-1 readers).</summary>
    public const int FullRoundFormatVersion = 1;

    /// <summary>Format of this document; required in JSON.</summary>
    [JsonRequired]
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    public required string JobId { get; set; }

    public int Round { get; set; }

    /// <summary>
    /// Format version 2: the committed round this one was compared with, or null for a complete round. Chunks without
    /// a <see cref="ManifestChunk.Pack"/> are unchanged since that round; a byte no chunk covers reads as zero.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BaseRound { get; set; }

    /// <summary>Base64 of the round's 32-byte AES-256 data key wrapped with RSA-OAEP-SHA256 under the job public key.</summary>
    public required string WrappedDataKey { get; set; }

    /// <summary>Lowercase hex SHA-256 of the job public key's SubjectPublicKeyInfo DER: which key unwraps the data key.</summary>
    public required string KeyFingerprint { get; set; }

    /// <summary>The chunk grid in bytes (1 MiB): no chunk is longer, and none crosses a multiple of it.</summary>
    public int ChunkSize { get; set; }

    public List<ManifestDisk> Disks { get; set; } = [];

    /// <summary>
    /// Every non-zero chunk of the disks in this round, in any order; chunks never overlap. In version 1 every chunk has
    /// a pack; in version 2 a chunk without one was not sent because its fingerprint equals the base round's.
    /// </summary>
    public List<ManifestChunk> Chunks { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Version of the agent that wrote the round, for diagnostics.</summary>
    public required string AgentVersion { get; set; }
}
