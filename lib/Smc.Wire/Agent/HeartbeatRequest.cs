using Smc.Wire.Inventory;

namespace Smc.Wire.Agent;

/// <summary><c>POST /api/v1/agent/heartbeat</c>, authenticated with the source credential.</summary>
public sealed class HeartbeatRequest
{
    public required string AgentVersion { get; init; }

    public SystemInfo? SystemInfo { get; init; }

    /// <summary>Sent when the disks changed since registration; null keeps what the control plane has.</summary>
    public List<DiskInfo>? Disks { get; init; }
}
