using Smc.Wire.Inventory;

namespace Smc.Wire.Agent;

/// <summary><c>POST /api/v1/agent/heartbeat</c>, authenticated with the source credential.</summary>
public sealed class HeartbeatRequest
{
    public required string AgentVersion { get; init; }

    public SystemInfo? SystemInfo { get; init; }

    /// <summary>Sent when the disks changed since registration; null keeps what the control plane has.</summary>
    public List<DiskInfo>? Disks { get; init; }

    /// <summary>
    /// An idle agent's long poll: when the source has no command, the control plane may hold the answer up to this many
    /// seconds (at most the heartbeat rate and 15) and answers as soon as a command is given. Null or 0: answer at once.
    /// </summary>
    public int? WaitSeconds { get; init; }
}
