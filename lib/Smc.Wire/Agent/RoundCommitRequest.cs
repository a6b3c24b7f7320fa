namespace Smc.Wire.Agent;

/// <summary><c>POST /api/v1/agent/jobs/{jobId}/rounds/{round}/commit</c>, after the commit marker is written.</summary>
public sealed class RoundCommitRequest
{
    public required string ManifestSha256 { get; init; }

    public int ChunkCount { get; init; }

    public long StoredBytes { get; init; }
}
