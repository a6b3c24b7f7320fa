namespace Smc.Wire.Agent;

/// <summary><c>POST /api/v1/agent/jobs/{jobId}/progress</c>: where the running round stands.</summary>
public sealed class ProgressReport
{
    public int Round { get; init; }

    public List<DiskProgressReport> Disks { get; init; } = [];

    public double BytesPerSecond { get; init; }

    public double? EtaSeconds { get; init; }
}
