namespace Smc.Wire.Staging;

/// <summary>One chunk of a round's manifest: a region of a source disk and the frame that carries it.</summary>
public sealed class ManifestChunk
{
    /// <summary>The <see cref="ManifestDisk.Index"/> of the disk.</summary>
    public int Disk { get; set; }

    /// <summary>Byte offset of the chunk on the source disk.</summary>
    public long Offset { get; set; }

    /// <summary>Plaintext length in bytes (1 to the manifest's chunk size).</summary>
    public int Length { get; set; }

    /// <summary>Id of the pack that holds the frame (<see cref="StagingNames.Pack"/>).</summary>
    /// <remarks>Null (format version 2 only): the chunk is unchanged since the manifest's base round and was not sent.</remarks>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Pack { get; set; }

    /// <summary>Byte offset of the frame in the pack.</summary>
    public long Position { get; set; }

    /// <summary>Length of the frame in the pack, header included.</summary>
    public int StoredLength { get; set; }

    /// <summary>
    /// Lowercase hex of the plaintext's keyed fingerprint (docs/wire-format.md, "Fingerprints"): checked by the
    /// assembler, compared by the agent between rounds.
    /// </summary>
    public required string Fingerprint { get; set; }
}
