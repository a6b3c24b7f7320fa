using System.Text.Json.Serialization;

namespace Smc.Wire.Staging;

/// <summary>
/// The last blob of a round (<see cref="StagingNames.Commit"/>): its presence makes the round visible. It names the
/// exact manifest bytes by hash, so a manifest replaced after the commit is detected.
/// </summary>
public sealed class CommitMarker : IVersionedDocument
{
    /// <summary>The commit marker format this code writes; readers accept every version from 1 to this one.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Format of this document; required in JSON.</summary>
    [JsonRequired]
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    public int Round { get; set; }

    /// <summary>Lowercase hex SHA-256 of the exact manifest bytes uploaded.</summary>
    public required string ManifestSha256 { get; set; }

    /// <summary>Number of chunks in the manifest.</summary>
    public int ChunkCount { get; set; }

    /// <summary>Sum of the stored (frame) lengths of the round's chunks.</summary>
    public long StoredBytes { get; set; }

    public DateTimeOffset CommittedAt { get; set; }
}
