namespace Smc.Wire.Agent;

public sealed class HeartbeatResponse
{
    public required string SourceId { get; init; }

    public required string State { get; init; }

    /// <summary>Seconds until the next heartbeat is due.</summary>
    public int HeartbeatRate { get; init; }

    /// <summary>Commands waiting for the agent (empty until replication commands exist).</summary>
    public List<AgentCommand> Commands { get; init; } = [];
}
